// Built-in model catalog (data/models/index.yaml + one real config.json per model) and model resolution:
// a built-in name, a path to a config.json, or a local model folder (config.json + safetensors headers).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseYamlCached } from "../data/yaml-cache.js";
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import { shownString } from "../input/shown.js";
import { readJsonFile } from "../input/json.js";
import { LIMITS } from "../input/limits.js";
import { specFromConfig } from "./config.js";
import { checkConfig, checkSpecSize } from "./config-check.js";
import { refuseWeightFile, requireSafeWeights } from "./weight-files.js";
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

/** A config.json read under its size limit, parsed with line-located errors and checked field by field. */
function readConfig(file: string): unknown {
  const raw = readJsonFile(file, "config", LIMITS.configBytes);
  checkConfig(raw, file);
  return raw;
}

/** config.ts on a checked config, then the size sanity check. */
function specOf(file: string, name: string): ModelSpec {
  const raw = readConfig(file);
  let spec: ModelSpec;
  try {
    spec = specFromConfig(raw, name);
  } catch (e) {
    // config.ts names the model; the file is what the user can open and fix
    if (e instanceof FitlabInputError) throw new FitlabInputError(`${file}: ${e.message.replace(/^config for .+? (has|is)/, "$1").replace(/^config for [^:]+: /, "")}`);
    throw e;
  }
  checkSpecSize(spec, file);
  return spec;
}

/** Resolve a model by built-in name/HF id, config.json path, or local folder. Cached per name. */
export function resolveModel(nameOrPath: string): ModelSpec {
  const cached = specCache.get(nameOrPath);
  if (cached) return cached;
  let spec: ModelSpec;
  const entry = findEntry(nameOrPath);
  if (entry) {
    spec = { ...specOf(path.join(MODELS_DIR, entry.file), entry.id) };
  } else if (nameOrPath.trim() === "") {
    throw new FitlabInputError("the model name is empty: give a built-in name, a config.json or a model folder");
  } else if (fs.existsSync(nameOrPath)) {
    const stat = fs.statSync(nameOrPath);
    if (stat.isDirectory()) {
      const cfg = path.join(nameOrPath, "config.json");
      if (!fs.existsSync(cfg)) throw new FitlabInputError(`model folder ${nameOrPath} has no config.json`);
      // pickles are refused before anything is read; a folder with only config.json is planned from it
      const hasWeights = requireSafeWeights(nameOrPath);
      const base = specOf(cfg, path.basename(path.resolve(nameOrPath)));
      spec = hasWeights ? { ...base, storedBytes: readSafetensorsModel(nameOrPath).totalBytes } : base;
    } else {
      refuseWeightFile(nameOrPath);
      spec = specOf(nameOrPath, path.basename(path.dirname(path.resolve(nameOrPath))) || nameOrPath);
    }
  } else {
    const close = catalogEntries()
      .map((e) => e.id)
      .filter((id) => norm(id).includes(norm(nameOrPath).slice(0, 6)))
      .slice(0, 4);
    throw new FitlabInputError(`unknown model ${shownString(nameOrPath)}: not a built-in name, config.json or model folder${close.length ? `; closest: ${close.join(", ")}` : " (see `fitlab models`)"}`);
  }
  const frozen = Object.freeze(spec);
  specCache.set(nameOrPath, frozen);
  return frozen;
}
