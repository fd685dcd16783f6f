// An example Flotilla plugin (docs/plugins.md). Enable it by copying or linking this
// folder into the plugins directory (<data_dir>/plugins) and setting
// `routing.strategy: least-recent` in the config.

/** Ollama's spelling rule: `llama3` is `llama3:latest`; the router hands strategies this key. */
function modelKey(name) {
  const lower = name.trim().toLowerCase();
  const slash = lower.lastIndexOf("/");
  return lower.indexOf(":", slash + 1) === -1 ? `${lower}:latest` : lower;
}

/** @type {import("../../src/plugins/api.js").FlotillaPlugin} */
export default {
  name: "example-least-recent",
  version: "1.0.0",
  setup(api) {
    // When each server last answered each model: `${model}\0${server}` → ms.
    const lastServed = new Map();
    const counted = { total: 0, answered: 0, failed: 0 };
    const logEvery = Number(api.options.log_every ?? 100);

    // Servers that never served the model first, then the one that served it longest ago.
    // Array.prototype.sort is stable: ties keep the router's own order (loaded, free VRAM, least busy).
    api.addStrategy("least-recent", (candidates, { model }) => {
      const served = (candidate) => lastServed.get(`${model}\0${candidate.name}`) ?? 0;
      return [...candidates].sort((a, b) => served(a) - served(b));
    });

    api.afterResponse((record) => {
      counted.total++;
      if (record.status < 400) counted.answered++;
      else counted.failed++;
      if (record.server && record.model) {
        const now = Date.now();
        for (const server of record.server.split(",")) lastServed.set(`${modelKey(record.model)}\0${server}`, now);
      }
      if (logEvery > 0 && counted.total % logEvery === 0) {
        api.log.info(`${counted.total} requests: ${counted.answered} answered, ${counted.failed} failed`);
      }
    });
  },
};
