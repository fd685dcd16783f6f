import assert from "node:assert/strict";
import { test } from "node:test";
import { showInfo } from "./model-catalog-show.js";
import { catalogView } from "./model-catalog-view.js";

test("/api/show gives the context length of the model's architecture, its capabilities and its numeric Modelfile defaults", () => {
  const info = showInfo(
    {
      parameters: 'temperature 0.6\nstop "<|eot_id|>"\ntop_k 40',
      details: { family: "qwen2" },
      model_info: { "general.architecture": "qwen2", "qwen2.context_length": 32768, "llama.context_length": 1, "tokenizer.ggml.model": "gpt2" },
      capabilities: ["completion", "vision", 7],
    },
    1_700_000_000_000,
  );
  assert.deepEqual(info, { contextLength: 32768, capabilities: ["completion", "vision"], defaults: { temperature: "0.6", top_k: "40" }, family: "qwen2", tokenizer: "gpt2", fetchedAt: 1_700_000_000_000 });
  const entry = catalogView({ key: "q:latest", name: "q", show: info, edits: {} });
  assert.deepEqual(entry.architecture, { modality: "text+image->text", input_modalities: ["text", "image"], output_modalities: ["text"], tokenizer: "gpt2", instruct_type: null });
  assert.deepEqual(entry.supported_parameters.default, { temperature: "0.6", top_k: "40" });
  assert.deepEqual([entry.status, entry.supports_images, entry.supports_tools, entry.last_synced_at], ["filled", true, false, 1_700_000_000]);
});

test("a model that left the fleet keeps what an admin set, and is not available", () => {
  const row = { model_key: "gone:latest", name: "gone", edits: "{}", edited: 1, active: 0, created_at: 1_000_000, updated_at: 2_000_000 };
  const entry = catalogView({ key: "gone:latest", name: "gone", row, edits: { description: "retired", context_length: 2048 } });
  assert.deepEqual(
    [entry.id, entry.available, entry.active, entry.status, entry.description, entry.context_length, entry.created_at, entry.updated_at, entry.extras],
    ["gone", false, false, "updated", "retired", 2048, 1000, 2000, { fleet: { servers: [] } }],
  );
});
