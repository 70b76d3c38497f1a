// `fitlab models [NAME|PATH]`: the built-in catalog, or one model's resolved spec (a built-in name, a hub id
// fetched once, a config.json, a model folder or a .gguf file).
import { Command } from "commander";
import { catalogEntries, ensureModel, resolveModel } from "../spec/catalog.js";
import { count, gib, table } from "./format.js";
import { print } from "./output.js";

/** The built-in models (`fitlab models --json`, the dashboard's model list). */
export function modelList(): { id: string; params: number; official_params: number | null; config_source: string }[] {
  return catalogEntries().map((e) => ({ id: e.id, params: resolveModel(e.id).params.total, official_params: e.official_params, config_source: e.config_source }));
}

export function modelsCommand(): Command {
  return new Command("models")
    .description("list built-in models, or show one model's parameter counts (name, hub id, config.json, model folder or .gguf file)")
    .argument("[model]", "model to inspect")
    .option("--json", "print JSON")
    .action(async (model: string | undefined, o: { json?: boolean }) => {
      if (model) {
        const fetched = await ensureModel(model);
        if (fetched) process.stderr.write(`fitlab: ${fetched}\n`);
        const s = resolveModel(model);
        if (o.json) return print(s, true);
        const p = s.params;
        const moe = s.numExperts > 1 ? ` · ${s.numExperts} experts (width ${s.expertIntermediateSize}), ${s.expertsPerToken} per token${s.sharedExpertIntermediateSize ? `, shared width ${s.sharedExpertIntermediateSize}` : ""}` : "";
        const lines = [
          `${s.name} (${s.architecture}, ${s.modelType})`,
          `layers ${s.numLayers} · hidden ${s.hiddenSize} · heads ${s.numHeads} (kv ${s.numKvHeads}, head_dim ${s.headDim}) · intermediate ${s.intermediateSize} · vocab ${s.vocabSize}`,
          `embeddings ${s.tiedEmbeddings ? "tied" : "untied"}${moe}${s.slidingWindow ? ` · sliding window ${s.slidingWindow} on ${s.slidingLayers} layers` : ""}`,
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
        if (s.preQuantized) lines.push(`stored as ${s.storedQuant ?? `${s.preQuantized.method} (not modelled)`}${s.preQuantized.groupSize > 0 ? `, group ${s.preQuantized.groupSize}` : ""}${s.preQuantized.weightBlock ? `, scale blocks ${s.preQuantized.weightBlock.join("x")}` : ""}: runs in that format by default`);
        if (s.stored) lines.push(`stored bytes (${s.stored.format} headers): ${count(s.stored.totalBytes)} (${gib(s.stored.totalBytes)}); used for the weights when the run loads them as stored`);
        return print(lines.join("\n"), false);
      }
      const rows = modelList();
      if (o.json) return print(rows, true);
      print(table(["model", "parameters", "official"], rows.map((r) => [r.id, count(r.params), r.official_params === null ? "-" : count(r.official_params)])), false);
    });
}
