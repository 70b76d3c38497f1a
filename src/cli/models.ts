// `fitlab models [NAME|PATH]`: the built-in catalog, or one model's resolved spec.
import { Command } from "commander";
import { catalogEntries, resolveModel } from "../spec/catalog.js";
import { readGgufHeader } from "../spec/gguf.js";
import { count, table } from "./format.js";
import { print } from "./output.js";

/** The built-in models (`fitlab models --json`, the dashboard's model list). */
export function modelList(): { id: string; params: number; official_params: number | null; config_source: string }[] {
  return catalogEntries().map((e) => ({ id: e.id, params: resolveModel(e.id).params.total, official_params: e.official_params, config_source: e.config_source }));
}

export function modelsCommand(): Command {
  return new Command("models")
    .description("list built-in models, or show one model's parameter counts (name, config.json, model folder or .gguf file)")
    .argument("[model]", "model to inspect")
    .option("--json", "print JSON")
    .action((model: string | undefined, o: { json?: boolean }) => {
      if (model && model.toLowerCase().endsWith(".gguf")) {
        const g = readGgufHeader(model);
        return print(o.json ? g : `${model}: GGUF v${g.version}, ${g.architecture ?? "?"}, ${count(g.tensors)} tensors, ${count(g.totalParams)} parameters, ${count(g.totalBytes)} bytes`, o.json);
      }
      if (model) {
        const s = resolveModel(model);
        if (o.json) return print(s, true);
        const p = s.params;
        const lines = [
          `${s.name} (${s.architecture}, ${s.modelType})`,
          `layers ${s.numLayers} · hidden ${s.hiddenSize} · heads ${s.numHeads} (kv ${s.numKvHeads}, head_dim ${s.headDim}) · intermediate ${s.intermediateSize} · vocab ${s.vocabSize}`,
          `embeddings ${s.tiedEmbeddings ? "tied" : "untied"}${s.numExperts > 1 ? ` · ${s.numExperts} experts, ${s.expertsPerToken} per token` : ""}${s.slidingWindow ? ` · sliding window ${s.slidingWindow} on ${s.slidingLayers} layers` : ""}`,
          "",
          table(["component", "parameters"], [
            ["embeddings", count(p.embeddings)],
            ["attention", count(p.attention)],
            ["mlp", count(p.mlp)],
            ["norms", count(p.norms)],
            ["lm_head", count(p.lmHead)],
            ["total", count(p.total)],
            ["active per token", count(p.active)],
          ]),
        ];
        if (s.storedBytes !== null) lines.push(`stored bytes (safetensors headers): ${count(s.storedBytes)}`);
        return print(lines.join("\n"), false);
      }
      const rows = modelList();
      if (o.json) return print(rows, true);
      print(table(["model", "parameters", "official"], rows.map((r) => [r.id, count(r.params), r.official_params === null ? "-" : count(r.official_params)])), false);
    });
}
