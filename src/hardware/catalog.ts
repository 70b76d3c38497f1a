// The GPU catalog: data/gpus.yaml (hand-normalised once from the research tables), validated with zod,
// resolved into integer-unit Gpu records, optionally merged with a user YAML file of the same shape.
import { readFileSync } from "node:fs";
import { parseYamlCached } from "../data/yaml-cache.js";
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import { dateProblem, loadYamlData, type DataFile } from "../input/data-file.js";
import { LIMITS } from "../input/limits.js";
import { shownString } from "../input/shown.js";
import { zodIssueText } from "../input/zod-issue.js";
import type { Gpu } from "./gpu.js";
import { matchName, missMessage } from "../data/match.js";

// src/hardware/ (vitest) and dist/hardware/ (compiled) are both two levels below the repo root.
const BUILTIN_URL = new URL("../../data/gpus.yaml", import.meta.url);

const GIB = 2 ** 30;

const dateRe = /^\d{4}-\d{2}(-\d{2})?$/;
const launchRe = /^\d{4}(-\d{2}(-\d{2})?)?$/;

const cloudOfferSchema = z.strictObject({
  provider: z.string().min(1),
  usd_per_hour: z.number().positive().max(1000),
  kind: z.enum(["on-demand", "spot", "serverless"]),
  date: z.string().regex(dateRe, "expected YYYY-MM or YYYY-MM-DD").nullable(),
  source: z.string().min(1),
});

const priceRangeSchema = z.strictObject({
  low: z.number().nonnegative().max(1e7),
  high: z.number().nonnegative().max(1e7),
  date: z.string().regex(launchRe, "expected YYYY, YYYY-MM or YYYY-MM-DD").optional(),
  source: z.string().min(1).optional(),
});

/** A name or alias; YAML reads a bare `4090` as a number, so numbers are accepted as text. */
const label = z.union([z.string().min(1), z.number().transform(String)]);

const gpuEntrySchema = z.strictObject({
  name: label,
  aliases: z.array(label),
  arch: z.string().min(1),
  compute_capability: z.string().regex(/^\d+\.\d+$/, 'expected "major.minor", e.g. "8.9"'),
  /** streaming multiprocessors (datasheet / whitepaper); optional for user entries */
  sm_count: z.number().int().positive().max(10_000).optional(),
  mem_type: z.string(),
  // ranges: a few times the largest card shipping (B200: 192 GB, 8 TB/s, 2.25 PF dense BF16, 1 kW)
  vram_gib_nominal: z.number().positive().max(4096),
  usable_gib: z.number().positive().max(4096),
  usable_source: z.enum(["torch-reported", "derived", "inferred"]),
  mem_bandwidth_gbps: z.number().positive().max(100_000),
  bf16_dense_tflops: z.number().positive().max(100_000),
  bf16_native: z.boolean(),
  measured_matmul_tflops: z.number().positive().max(100_000).nullable(),
  class: z.enum(["consumer", "workstation", "datacenter"]),
  tdp_w: z.number().positive().max(5000).nullable(),
  launch_date: z.string().regex(launchRe, "expected YYYY, YYYY-MM or YYYY-MM-DD"),
  launch_price_usd: z.number().positive().max(1e7).nullable(),
  used_price_usd: priceRangeSchema.nullable(),
  cloud: z.array(cloudOfferSchema),
  spec_source: z.string(),
  price_source: z.string(),
  notes: z.string(),
});
type GpuEntry = z.infer<typeof gpuEntrySchema>;

/** A user entry: only `name` is required; for an existing GPU the given fields override, field by field. */
const userEntrySchema = gpuEntrySchema.partial().required({ name: true });
type UserEntry = z.infer<typeof userEntrySchema>;

const metaSchema = z.object({ date: z.string(), sources: z.array(z.string()) }).partial();
const builtinFileSchema = z.strictObject({ meta: metaSchema, gpus: z.array(gpuEntrySchema).min(1) });
const userFileSchema = z.strictObject({ meta: metaSchema.optional(), gpus: z.array(userEntrySchema) });

export interface GpuCatalog {
  all(): readonly Gpu[];
  /** The one matching rule, case- and punctuation-insensitive: exact name or alias, then a unique prefix;
   *  otherwise FitlabInputError naming the closest (or the ambiguous) GPUs, ranked by similarity. */
  find(name: string): Gpu;
  tryFind(name: string): Gpu | undefined;
}

/** Lower-case, alphanumerics only, vendor/brand prefixes dropped: "NVIDIA GeForce RTX 4090" -> "4090". */
export function gpuKey(s: string): string {
  let k = s.toLowerCase().replace(/[^a-z0-9]/g, "");
  for (let again = true; again; ) {
    again = false;
    for (const p of ["nvidia", "geforce", "tesla", "rtx"]) {
      if (k.startsWith(p) && k.length > p.length) { k = k.slice(p.length); again = true; }
    }
  }
  return k;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : out === "" ? String(seg) : `.${String(seg)}`;
  return out;
}

/** gpus[2] ("My card").cloud[0].kind: Invalid option ... for the first issue. */
function firstIssue(err: z.ZodError, data: unknown): string {
  const i = err.issues[0];
  if (!i) return "invalid";
  const [top, idx, ...rest] = i.path;
  if (top === "gpus" && typeof idx === "number") {
    const list = (data as { gpus?: unknown } | null)?.gpus;
    const entry = Array.isArray(list) ? (list[idx] as unknown) : undefined;
    const n = entry !== null && typeof entry === "object" ? (entry as Record<string, unknown>).name : undefined;
    const label = `gpus[${idx}]${typeof n === "string" || typeof n === "number" ? ` ("${n}")` : ""}`;
    return `${rest.length ? `${label}.${formatPath(rest)}` : label}: ${i.message}`;
  }
  return `${formatPath(i.path) || "(top level)"}: ${i.message}`;
}

/** Rules across fields of one entry: the field and the problem, or undefined. `asOf`: prices observed later are refused. */
function checkEntry(e: GpuEntry, asOf = "9999-12-31"): { path: (string | number)[]; message: string } | undefined {
  if (e.usable_gib > e.vram_gib_nominal) return { path: ["usable_gib"], message: `usable_gib (${e.usable_gib}) exceeds vram_gib_nominal (${e.vram_gib_nominal})` };
  if (e.used_price_usd && e.used_price_usd.low > e.used_price_usd.high) return { path: ["used_price_usd"], message: `low $${e.used_price_usd.low} exceeds high $${e.used_price_usd.high}` };
  if (e.measured_matmul_tflops !== null && e.measured_matmul_tflops > e.bf16_dense_tflops * 1.5) return { path: ["measured_matmul_tflops"], message: `${e.measured_matmul_tflops} is far above the card's nominal ${e.bf16_dense_tflops} (dense BF16, not sparse?)` };
  const major = Number(e.compute_capability.split(".")[0]);
  if (major < 3 || major > 20) return { path: ["compute_capability"], message: `${shownString(e.compute_capability)} is no CUDA compute capability (3.0 to 12.x)` };
  const calendar = (d: string, path: (string | number)[], future: boolean) => {
    if (/^\d{4}$/.test(d)) return undefined;
    const bad = dateProblem(d, future ? "9999-12-31" : asOf);
    return bad ? { path, message: bad } : undefined;
  };
  const launch = calendar(e.launch_date, ["launch_date"], true);
  if (launch) return launch;
  if (e.used_price_usd?.date) {
    const bad = calendar(e.used_price_usd.date, ["used_price_usd", "date"], false);
    if (bad) return bad;
  }
  for (const [i, c] of e.cloud.entries()) {
    const bad = c.date === null ? undefined : calendar(c.date, ["cloud", i, "date"], false);
    if (bad) return bad;
  }
  return undefined;
}

function resolve(e: GpuEntry): Gpu {
  const tera = (t: number) => Math.round(t * 1e12);
  return Object.freeze({
    name: e.name,
    aliases: Object.freeze([...e.aliases]),
    arch: e.arch,
    computeCapability: e.compute_capability,
    smCount: e.sm_count ?? null,
    memType: e.mem_type,
    vramBytesNominal: Math.round(e.vram_gib_nominal * GIB),
    usableBytes: Math.round(e.usable_gib * GIB),
    usableSource: e.usable_source,
    memBandwidthBytesPerS: Math.round(e.mem_bandwidth_gbps * 1e9),
    bf16DenseFlopsPerS: tera(e.bf16_dense_tflops),
    bf16Native: e.bf16_native,
    measuredMatmulFlopsPerS: e.measured_matmul_tflops === null ? null : tera(e.measured_matmul_tflops),
    gpuClass: e.class,
    tdpWatts: e.tdp_w,
    launchDate: e.launch_date,
    launchPriceUsd: e.launch_price_usd,
    usedPriceUsd: e.used_price_usd === null ? null : Object.freeze({ ...e.used_price_usd }),
    cloud: Object.freeze(
      e.cloud.map((c) =>
        Object.freeze({ provider: c.provider, usdPerHour: c.usd_per_hour, kind: c.kind, date: c.date, source: c.source }),
      ),
    ),
    specSource: e.spec_source,
    priceSource: e.price_source,
    notes: e.notes,
  });
}

/** Build the lookup index; `onConflict` reports a key that would name two different GPUs. */
function buildCatalog(gpus: readonly Gpu[], onConflict: (msg: string) => never): GpuCatalog {
  const index = new Map<string, Gpu>();
  for (const g of gpus) {
    for (const label of [g.name, ...g.aliases]) {
      const k = gpuKey(label);
      if (k === "") onConflict(`GPU "${g.name}": name or alias "${label}" has no letters or digits`);
      const prev = index.get(k);
      if (prev && prev !== g) onConflict(`alias "${label}" of "${g.name}" already names "${prev.name}"`);
      index.set(k, g);
    }
  }
  const frozen = Object.freeze([...gpus]);
  const labelled = frozen.map((g) => ({ value: g, labels: [g.name, ...g.aliases] }));
  // the one matching rule (src/data/match.ts): exact name or alias, then a unique prefix
  const lookup = (name: string) => {
    const exact = index.get(gpuKey(name));
    return exact ? ({ kind: "hit", value: exact, via: "exact" } as const) : matchName(name, labelled, gpuKey);
  };
  const tryFind = (name: string): Gpu | undefined => {
    const r = lookup(name);
    return r.kind === "hit" ? r.value : undefined;
  };
  return {
    all: () => frozen,
    tryFind,
    find(name: string): Gpu {
      if (gpuKey(name) === "") throw new FitlabInputError(`GPU name "${name}" is empty`);
      const r = lookup(name);
      if (r.kind === "hit") return r.value;
      throw new FitlabInputError(missMessage("GPU", name, r, (g) => g.name, 3));
    },
  };
}

let builtinEntries: readonly GpuEntry[] | undefined;
let builtinCatalog: GpuCatalog | undefined;

function loadBuiltinEntries(): readonly GpuEntry[] {
  if (builtinEntries) return builtinEntries;
  // The built-in file ships with fitlab: a problem here is a bug, not user input, so plain Error.
  const data: unknown = parseYamlCached(readFileSync(BUILTIN_URL, "utf8"));
  const parsed = builtinFileSchema.safeParse(data);
  if (!parsed.success) throw new Error(`built-in ${BUILTIN_URL.pathname}: ${firstIssue(parsed.error, data)}`);
  for (const e of parsed.data.gpus) {
    const bad = checkEntry(e);
    if (bad) throw new Error(`built-in ${BUILTIN_URL.pathname}: GPU "${e.name}": ${bad.path.join(".")}: ${bad.message}`);
  }
  builtinEntries = Object.freeze(parsed.data.gpus);
  return builtinEntries;
}

type UserFile = z.infer<typeof userFileSchema>;

/** A user GPU file through the input layer: a regular file under the size limit, UTF-8, YAML with lines. */
function readUserFile(file: string): DataFile<UserFile> {
  return loadYamlData(file, "GPU file", LIMITS.dataFileBytes, userFileSchema);
}

/**
 * Merge user entries into the built-in ones. An entry whose name matches an existing GPU's name or alias
 * (same rules as find) overrides that GPU field by field; its aliases are added to the existing ones.
 * Any other entry is a new GPU and must give every field.
 */
function mergeUser(base: readonly GpuEntry[], f: DataFile<UserFile>, asOf: string): GpuEntry[] {
  const out = [...base];
  const locate = (name: string): number => {
    const k = gpuKey(name);
    return out.findIndex((e) => [e.name, ...e.aliases].some((l) => gpuKey(l) === k));
  };
  f.data.gpus.forEach((u, i) => {
    const at = locate(u.name);
    const defined = Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined)) as UserEntry;
    let candidate: unknown;
    if (at >= 0) {
      const old = out[at] as GpuEntry;
      const aliases = [...old.aliases, ...(u.aliases ?? []).filter((a) => !old.aliases.includes(a))];
      candidate = { ...old, ...defined, name: old.name, aliases };
    } else {
      candidate = defined;
    }
    const who = ` (GPU ${shownString(u.name)}${at < 0 ? ", a new card: it needs every field" : ""})`;
    const parsed = gpuEntrySchema.safeParse(candidate);
    if (!parsed.success) {
      const iss = parsed.error.issues[0]!;
      const path = iss.path as (string | number)[];
      const value = path.reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<string | number, unknown>)[k] : undefined), candidate);
      f.fail(["gpus", i, ...path], `${iss.code === "invalid_type" && value === undefined ? "missing" : zodIssueText(iss, value)}${who}`);
    }
    const bad = checkEntry(parsed.data!, asOf);
    if (bad) f.fail(["gpus", i, ...bad.path], `${bad.message}${who}`);
    if (at >= 0) out[at] = parsed.data!;
    else out.push(parsed.data!);
  });
  return out;
}

/**
 * The GPU catalog. Without an argument, the built-in data/gpus.yaml (parsed once, cached).
 * With `extraYamlPath`, that file (same schema; only `name` required for overrides) is merged on top.
 */
export function loadGpuCatalog(extraYamlPath?: string): GpuCatalog {
  const base = loadBuiltinEntries();
  if (extraYamlPath === undefined) {
    builtinCatalog ??= buildCatalog(base.map(resolve), (msg) => {
      throw new Error(`built-in ${BUILTIN_URL.pathname}: ${msg}`);
    });
    return builtinCatalog;
  }
  const merged = mergeUser(base, readUserFile(extraYamlPath), new Date().toISOString().slice(0, 10));
  return buildCatalog(merged.map(resolve), (msg) => {
    throw new FitlabInputError(`GPU file ${extraYamlPath}: ${msg}`);
  });
}
