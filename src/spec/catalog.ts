// Built-in model catalog (data/models/index.yaml + one real config.json per model) and model resolution:
// a built-in name (the one matching rule of src/data/match.ts: exact id or alias, then a unique prefix), a
// path to a config.json, a local model folder (config.json + safetensors headers), a .gguf file, or any other
// hub id (fetched once into the fitlab home by hub.ts, then read from there).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseYamlCached } from "../data/yaml-cache.js";
import { defaultKey, matchName, missMessage, type Labelled } from "../data/match.js";
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import { shownString } from "../input/shown.js";
import { readJsonFile } from "../input/json.js";
import { LIMITS } from "../input/limits.js";
import { specFromConfig } from "./config.js";
import { readGgufHeader } from "./gguf.js";
import { specFromGguf } from "./gguf-spec.js";
import { derivedNames } from "./derived.js";
import { fetchHubModel, hubCacheDir, isHubId, readHubCache, readHubCacheStrict } from "./hub.js";
import { floatTensors, readSafetensorsModel } from "./safetensors.js";
import { checkConfig, checkSpecSize } from "./config-check.js";
import { refuseWeightFile, requireSafeWeights } from "./weight-files.js";
import type { ModelSpec } from "./types.js";

const MODELS_DIR = fileURLToPath(new URL("../../data/models/", import.meta.url));

const indexSchema = z.object({
  models: z.array(
    z.object({
      id: z.string(),
      file: z.string(),
      aliases: z.array(z.string()).optional(),
      official_params: z.number().int().nullable(),
      /** the published figure when only a rounded one exists ("0.6B", "3209M"), at its stated precision */
      official_params_stated: z.string().regex(/^\d+(\.\d+)?[MB]$/).optional(),
      official_non_embedding_stated: z.string().regex(/^\d+(\.\d+)?[MB]$/).optional(),
      params_source: z.string(),
      config_source: z.string(),
      date: z.string(),
    }),
  ),
});
export type CatalogEntry = z.infer<typeof indexSchema>["models"][number];

let entries: readonly CatalogEntry[] | null = null;
let labelled: readonly Labelled<CatalogEntry>[] | null = null;
const specCache = new Map<string, ModelSpec>();

export function catalogEntries(): readonly CatalogEntry[] {
  entries ??= indexSchema.parse(parseYamlCached(fs.readFileSync(path.join(MODELS_DIR, "index.yaml"), "utf8"))).models;
  return entries;
}

function catalogLabels(): readonly Labelled<CatalogEntry>[] {
  labelled ??= catalogEntries().map((e) => ({ value: e, labels: [e.id, e.id.split("/")[1] ?? e.id, ...(e.aliases ?? [])] }));
  return labelled;
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

function looksLikePath(s: string): boolean {
  return s.startsWith(".") || s.startsWith("/") || s.startsWith("~") || s.endsWith(".json") || s.endsWith(".gguf") || s.includes(path.sep + path.sep) || fs.existsSync(s);
}

function fromFolder(dir: string): ModelSpec {
  const cfg = path.join(dir, "config.json");
  if (!fs.existsSync(cfg)) throw new FitlabInputError(`model folder ${dir} has no config.json`);
  // pickles are refused before anything is read; a folder with only config.json is planned from it
  const hasWeights = requireSafeWeights(dir);
  const base = specOf(cfg, path.basename(path.resolve(dir)));
  if (!hasWeights) return base;
  const st = readSafetensorsModel(dir);
  const fl = floatTensors(st);
  return { ...base, storedBytes: st.totalBytes, stored: { format: "safetensors", totalBytes: st.totalBytes, floatBytes: fl.bytes, floatParams: fl.params } };
}

function fromHubCache(id: string): ModelSpec | null {
  const hit = readHubCacheStrict(id);
  if (!hit) return null;
  const base = specFromConfig(hit.config, id);
  const st = hit.stored;
  return st ? { ...base, storedBytes: st.totalBytes, stored: { format: "safetensors", totalBytes: st.totalBytes, floatBytes: st.floatBytes, floatParams: st.floatParams } } : base;
}

/** A hub id named after a built-in model plus variant suffixes (src/spec/derived.ts): the built-in entry and
 *  the stored format the name declares. Exact names only (the part after the owner, or an alias). */
export function derivedEntry(id: string): { entry: CatalogEntry; derived: ReturnType<typeof derivedNames>[number] } | null {
  const namePart = (s: string) => defaultKey(s.split("/").pop() ?? s);
  for (const d of derivedNames(id)) {
    const key = namePart(d.baseName);
    const hit = catalogLabels().find((e) => e.labels.some((l) => namePart(l) === key));
    if (hit) return { entry: hit.value, derived: d };
  }
  return null;
}

/** The line that says an id was planned as a variant of a built-in model. */
export function derivedNote(id: string): string | null {
  const d = derivedEntry(id);
  if (!d) return null;
  const q = d.derived.quant;
  return `${id} is not built in and was not fetched: planned with the architecture of ${d.entry.id}${q ? `, stored as ${q.storedQuant} (the "${d.derived.stripped[0]}" in its name)` : ""}; \`fitlab models ${id}\` fetches its own config.json`;
}

function fromDerived(id: string): ModelSpec | null {
  const d = derivedEntry(id);
  if (!d) return null;
  const base = specOf(path.join(MODELS_DIR, d.entry.file), id);
  const q = d.derived.quant;
  // a twin keeps the base's stored format; a quantized upload declares its own
  return q ? { ...base, preQuantized: q.preQuantized, storedQuant: q.storedQuant } : base;
}

/** The built-in entry a name matches (the one rule), or a one-line refusal; null when it matches nothing. */
export function findCatalogEntry(name: string): CatalogEntry | null {
  const r = matchName(name, catalogLabels());
  if (r.kind === "hit") return r.value;
  if (r.kind === "ambiguous") throw new FitlabInputError(missMessage("model", name, r, (e) => e.id));
  return null;
}

/** Resolve a model by built-in name/alias, config.json path, local folder, .gguf file, or a hub id already
 *  fetched (see ensureModel). Cached per name. */
export function resolveModel(nameOrPath: string): ModelSpec {
  const cached = specCache.get(nameOrPath);
  if (cached) return cached;
  let spec: ModelSpec;
  const pathLike = looksLikePath(nameOrPath);
  const match = pathLike ? null : matchName(nameOrPath, catalogLabels());
  // a full hub id that only prefixes several built-ins is a hub model when it was fetched
  const hubFirst = match?.kind === "ambiguous" && isHubId(nameOrPath) && readHubCache(nameOrPath) !== null;
  if (match?.kind === "ambiguous" && !hubFirst) throw new FitlabInputError(missMessage("model", nameOrPath, match, (e) => e.id));
  const entry = match?.kind === "hit" ? match.value : null;
  if (entry) {
    spec = { ...specOf(path.join(MODELS_DIR, entry.file), entry.id) };
  } else if (nameOrPath.trim() === "") {
    throw new FitlabInputError("the model name is empty: give a built-in name, a config.json, a model folder, a .gguf file or a hub id");
  } else if (pathLike && fs.existsSync(nameOrPath)) {
    const stat = fs.statSync(nameOrPath);
    if (stat.isDirectory()) spec = fromFolder(nameOrPath);
    else if (nameOrPath.toLowerCase().endsWith(".gguf")) spec = specFromGguf(readGgufHeader(nameOrPath), path.basename(nameOrPath));
    else {
      refuseWeightFile(nameOrPath);
      spec = specOf(nameOrPath, path.basename(path.dirname(path.resolve(nameOrPath))) || nameOrPath);
    }
  } else if (!pathLike && isHubId(nameOrPath)) {
    const hub = fromHubCache(nameOrPath) ?? fromDerived(nameOrPath);
    if (!hub) throw new FitlabInputError(`unknown model ${shownString(nameOrPath)}: not built in and not fetched yet (\`fitlab models ${nameOrPath}\` fetches its config.json from the hub into ${hubCacheDir(nameOrPath)})`);
    spec = hub;
  } else if (pathLike) {
    throw new FitlabInputError(`model file or folder ${shownString(nameOrPath)} does not exist`);
  } else {
    const derived = fromDerived(nameOrPath);
    if (!derived) {
      const r = matchName(nameOrPath, catalogLabels());
      throw new FitlabInputError(`${missMessage("model", nameOrPath, r as Exclude<typeof r, { kind: "hit" }>, (e) => e.id)} (a built-in name, a config.json, a model folder, a .gguf file or a hub id owner/name)`);
    }
    spec = derived;
  }
  const frozen = Object.freeze(spec);
  specCache.set(nameOrPath, frozen);
  return frozen;
}

/** Make a model resolvable: a hub id that is neither built in nor cached is fetched now. Returns the line to
 *  print when something was fetched (the CLI writes it to stderr), else "". */
export async function ensureModel(nameOrPath: string): Promise<string> {
  if (looksLikePath(nameOrPath) || !isHubId(nameOrPath)) return "";
  if (matchName(nameOrPath, catalogLabels()).kind === "hit") return "";
  try {
    const r = await fetchHubModel(nameOrPath);
    return r.fetched ? r.note : "";
  } catch (e) {
    // offline or not on the hub: a variant of a built-in model is planned from the built-in config, and said so
    const note = e instanceof FitlabInputError && readHubCache(nameOrPath) === null ? derivedNote(nameOrPath) : null;
    if (note) return note;
    throw e;
  }
}
