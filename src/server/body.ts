import type { FastifyInstance } from "fastify";
import { FlotillaError } from "../kernel/index.js";

/** Routes that take a raw byte stream (blob uploads) rather than JSON. */
const STREAM_ROUTES = /^\/api\/blobs\//;

/**
 * Every body is JSON whatever its content type says (Ollama's server reads
 * JSON from `curl -d` too), except blob uploads, which stay a stream.
 */
export function registerBodyParsing(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { bodyLimit }, (req, payload, done) => {
    if (STREAM_ROUTES.test(req.url)) {
      done(null, payload);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    payload.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > bodyLimit) {
        payload.destroy();
        done(new FlotillaError("payload_too_large", `the request body is over ${bodyLimit} bytes`), undefined);
        return;
      }
      chunks.push(chunk);
    });
    payload.on("error", (err) => done(err, undefined));
    payload.on("end", () => {
      if (size > bodyLimit) return;
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      req.rawBody = raw;
      if (raw.length === 0) {
        done(null, undefined);
        return;
      }
      try {
        done(null, JSON.parse(raw.toString("utf8")));
      } catch (err) {
        done(new FlotillaError("invalid_json", `the request body is not valid JSON: ${(err as Error).message}`), undefined);
      }
    });
  });
}
