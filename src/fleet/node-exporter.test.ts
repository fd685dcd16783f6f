import assert from "node:assert/strict";
import { test } from "node:test";
import { parseNodeExporter } from "./node-exporter.js";

const SAMPLE = `# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 2.5
node_cpu_seconds_total{cpu="0",mode="idle"} 1000.5
node_cpu_seconds_total{cpu="0",mode="user"} 20
node_cpu_seconds_total{cpu="1",mode="idle"} 990
node_cpu_seconds_total{cpu="2",mode="idle"} 990
node_cpu_seconds_total{cpu="3",mode="idle"} 990
node_memory_MemTotal_bytes 6.7108864e+10
node_memory_MemAvailable_bytes 3.3554432e+10
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 1.2e+11
node_filesystem_size_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 5e+11
node_filesystem_avail_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 1e+9
`;

test("a node exporter's text gives load over cores, memory and the root disk", () => {
  assert.deepEqual(parseNodeExporter(SAMPLE), {
    cpu: { cores: 4, load_1m: 2.5 },
    memory: { total_bytes: 67_108_864_000, free_bytes: 33_554_432_000 },
    disk: { total_bytes: 5e11, free_bytes: 1.2e11 },
  });
});

test("what the exporter does not say is left out", () => {
  assert.deepEqual(parseNodeExporter("node_load1 1\n"), {}, "no cores, no CPU figure");
  assert.deepEqual(parseNodeExporter("garbage line\n# comment\n"), {});
});
