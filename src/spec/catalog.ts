// Built-in model catalog (data/models/index.yaml + one real config.json per model) and model resolution:
// a built-in name, a path to a config.json, or a local model folder (config.json + safetensors headers).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseYamlCached } from "../data/yaml-cache.js";
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import { specFromConfig } from "./config.js";
import { readSafetensorsModel } from "./safetensors.js";
import type { ModelSpec } from "./types.js";

const MODELS_DIR = fileURLToPath(new URL("../../data/models/", import.meta.url));

const indexSchema = z.object({
  models: z.array(
    z.object({
      id: z.string(),
      file: z.string(),
      official_params: z.number().int().nullable(),
      params_source: z.string(),
      config_source: z.string(),
      date: z.string(),
    }),
  ),
});
export type CatalogEntry = z.infer<typeof indexSchema>["models"][number];

let entries: readonly CatalogEntry[] | null = null;
const specCache = new Map<string, ModelSpec>();

export function catalogEntries(): readonly CatalogEntry[] {
  entries ??= indexSchema.parse(parseYamlCached(fs.readFileSync(path.join(MODELS_DIR, "index.yaml"), "utf8"))).models;
  return entries;
}

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9.]/g, "");

function findEntry(name: string): CatalogEntry | undefined {
  const n = norm(name);
  const all = catalogEntries();
  return all.find((e) => norm(e.id) === n) ?? all.find((e) => norm(e.id.split("/")[1] ?? "") === n);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new FitlabInputError(`cannot read ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FitlabInputError(`${file} is not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
}

/** Resolve a model by built-in name/HF id, config.json path, or local folder. Cached per name. */
export function resolveModel(nameOrPath: string): ModelSpec {
  const cached = specCache.get(nameOrPath);
  if (cached) return cached;
  let spec: ModelSpec;
  const entry = findEntry(nameOrPath);
  if (entry) {
    spec = { ...specFromConfig(readJson(path.join(MODELS_DIR, entry.file)), entry.id) };
  } else if (fs.existsSync(nameOrPath)) {
    const stat = fs.statSync(nameOrPath);
    if (stat.isDirectory()) {
      const cfg = path.join(nameOrPath, "config.json");
      if (!fs.existsSync(cfg)) throw new FitlabInputError(`model folder ${nameOrPath} has no config.json`);
      const base = specFromConfig(readJson(cfg), path.basename(path.resolve(nameOrPath)));
      const hasWeights = fs.readdirSync(nameOrPath).some((f) => f.endsWith(".safetensors") || f === "model.safetensors.index.json");
      spec = hasWeights ? { ...base, storedBytes: readSafetensorsModel(nameOrPath).totalBytes } : base;
    } else {
      spec = specFromConfig(readJson(nameOrPath), path.basename(path.dirname(path.resolve(nameOrPath))) || nameOrPath);
    }
  } else {
    const close = catalogEntries()
      .map((e) => e.id)
      .filter((id) => norm(id).includes(norm(nameOrPath).slice(0, 6)))
      .slice(0, 4);
    throw new FitlabInputError(`unknown model "${nameOrPath}": not a built-in name, config.json or model folder${close.length ? `; closest: ${close.join(", ")}` : " (see `fitlab models`)"}`);
  }
  const frozen = Object.freeze(spec);
  specCache.set(nameOrPath, frozen);
  return frozen;
}
