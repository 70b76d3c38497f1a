// Models that are not built in, by hub id: fetch config.json once, and the safetensors headers by HTTP range
// requests (the first 8 bytes give the header length, then the header itself; alvarobartt/hf-mem's method),
// and keep them in the fitlab home (hub/<owner>--<name>/). Later calls read the cache and never touch the
// network. HF_ENDPOINT names the hub (default https://huggingface.co), HF_TOKEN authenticates.
import fs from "node:fs";
import path from "node:path";
import { fitlabHome } from "../data/home.js";
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import { loadJsonData } from "../input/data-file.js";
import { parseJsonText } from "../input/json.js";
import { LIMITS } from "../input/limits.js";
import { floatTensors, mergeSafetensorsSummaries, summarizeSafetensorsHeader, type SafetensorsSummary } from "./safetensors.js";

/** "owner/name" as the hub spells repository ids. */
export function isHubId(s: string): boolean {
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(s) && !s.endsWith(".json") && !s.endsWith(".gguf") && !s.includes("..");
}

export function hubEndpoint(): string {
  return (process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
}

export function hubCacheDir(id: string): string {
  return path.join(fitlabHome(), "hub", id.replace("/", "--"));
}

/** What the cache keeps besides config.json: the summary of the stored tensors. */
export interface HubStored {
  readonly files: readonly string[];
  readonly totalBytes: number;
  readonly floatBytes: number;
  readonly floatParams: number;
  readonly bytesByDtype: Readonly<Record<string, number>>;
}

export interface HubEntry {
  readonly config: unknown;
  readonly stored: HubStored | null;
}

const bytes = z.number().int().min(0).max(2 ** 53);
const storedSchema = z
  .object({ files: z.array(z.string().min(1)).max(LIMITS.tensors), totalBytes: bytes, floatBytes: bytes, floatParams: bytes, bytesByDtype: z.record(z.string(), bytes) })
  .strict();

/**
 * The cached entry of a hub id, or null when it was never fetched. A damaged entry (not JSON, not a file, a
 * summary out of range: a crash mid-write, a hand edit) throws one line naming the file and the way out.
 */
export function readHubCacheStrict(id: string): HubEntry | null {
  const dir = hubCacheDir(id);
  const cfg = path.join(dir, "config.json");
  if (!fs.existsSync(cfg)) return null;
  const hint = `; delete ${dir} and run \`fitlab models ${id}\` to fetch it again`;
  const config = loadJsonData(cfg, "hub cache file", LIMITS.configBytes, z.record(z.string(), z.unknown()), undefined, hint).data;
  const st = path.join(dir, "safetensors.json");
  const stored = fs.existsSync(st) ? loadJsonData(st, "hub cache file", LIMITS.smallJsonBytes, storedSchema, (f) => {
    if (f.data.floatBytes > f.data.totalBytes) f.fail(["floatBytes"], `${f.data.floatBytes} is more than totalBytes ${f.data.totalBytes}`);
  }, hint).data : null;
  return { config, stored };
}

/** The cached entry, or null when it was never fetched or is damaged (a damaged one is fetched again). */
export function readHubCache(id: string): HubEntry | null {
  try {
    return readHubCacheStrict(id);
  } catch (e) {
    if (e instanceof FitlabInputError) return null;
    throw e;
  }
}

/** Why the cached entry of an id cannot be read, or null (absent or fine). */
function hubCacheDamage(id: string): string | null {
  try {
    readHubCacheStrict(id);
    return null;
  } catch (e) {
    if (e instanceof FitlabInputError) return e.message;
    throw e;
  }
}

const TIMEOUT_MS = 20_000;
const FIRST_RANGE = 64 * 1024;

class HttpStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

async function get(url: string, range?: [number, number]): Promise<Response> {
  const headers: Record<string, string> = { "user-agent": "fitlab" };
  if (process.env.HF_TOKEN) headers.authorization = `Bearer ${process.env.HF_TOKEN}`;
  if (range) headers.range = `bytes=${range[0]}-${range[1]}`;
  const res = await fetch(url, { headers, redirect: "follow", signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new HttpStatus(res.status);
  return res;
}

/** Total size of the resource from a 206 reply (Content-Range: bytes a-b/total). */
function totalSize(res: Response): number | null {
  const cr = res.headers.get("content-range");
  const m = cr?.match(/\/(\d+)\s*$/);
  return m ? Number(m[1]) : null;
}

async function fetchHeader(base: string, file: string): Promise<SafetensorsSummary> {
  const url = `${base}/${file}`;
  let res = await get(url, [0, FIRST_RANGE - 1]);
  let buf = Buffer.from(await res.arrayBuffer());
  const size = totalSize(res) ?? (res.status === 200 ? buf.length : null);
  if (buf.length < 8) throw new Error(`${file}: reply too short for a safetensors header`);
  const n = Number(buf.readBigUInt64LE(0));
  if (n > 100 * 1024 * 1024) throw new Error(`${file}: header length ${n} is absurd`);
  if (buf.length < 8 + n) {
    res = await get(url, [8, 8 + n - 1]);
    buf = Buffer.concat([buf.subarray(0, 8), Buffer.from(await res.arrayBuffer())]);
  }
  const text = buf.subarray(8, 8 + n).toString("utf8");
  const dataSize = size !== null ? size - 8 - n : Number.MAX_SAFE_INTEGER;
  return summarizeSafetensorsHeader(file, text, dataSize);
}

function reasonOf(e: unknown): string {
  if (e instanceof HttpStatus) return e.status === 401 || e.status === 403 ? `HTTP ${e.status}: gated or private, set HF_TOKEN` : e.status === 404 ? "HTTP 404: no such model" : e.message;
  const err = e as { name?: string; message?: string; cause?: unknown };
  if (err.name === "TimeoutError") return "timed out";
  // undici wraps the socket error: cause.code, or cause.errors[].code for several addresses
  const cause = err.cause as { code?: string; message?: string; errors?: { code?: string }[] } | undefined;
  const code = cause?.code ?? cause?.errors?.find((x) => x.code)?.code ?? cause?.message;
  return code ? `unreachable: ${code}` : (err.message?.split("\n")[0] ?? String(e));
}

/** Fetch a hub model's config.json and safetensors headers into the cache, unless cached. Returns the entry
 *  and whether it was fetched now (the CLI says so). Offline or unknown: one-line FitlabInputError naming the id. */
export async function fetchHubModel(id: string): Promise<{ entry: HubEntry; fetched: boolean; note: string }> {
  const cached = readHubCache(id);
  if (cached) return { entry: cached, fetched: false, note: "" };
  const endpoint = hubEndpoint();
  const base = `${endpoint}/${id}/resolve/main`;
  let config: unknown;
  try {
    const res = await get(`${base}/config.json`);
    const text = await res.text();
    if (text.length > LIMITS.configBytes) throw new Error(`config.json is larger than ${LIMITS.configBytes} bytes`);
    config = parseJsonText(text, `config.json of ${id} from ${endpoint}`);
  } catch (e) {
    if (e instanceof FitlabInputError) throw e;
    const damage = hubCacheDamage(id);
    throw new FitlabInputError(damage ?? `unknown model "${id}": not built in, and its config.json could not be fetched from ${endpoint} (${reasonOf(e)})`);
  }
  // safetensors headers: sharded (model.safetensors.index.json) or one file; none is fine (config only)
  let stored: HubStored | null = null;
  let note = "";
  try {
    let files: string[];
    try {
      const text = await (await get(`${base}/model.safetensors.index.json`)).text();
      if (text.length > LIMITS.indexBytes) throw new Error(`model.safetensors.index.json is larger than ${LIMITS.indexBytes} bytes`);
      const idx = parseJsonText(text, `model.safetensors.index.json of ${id}`) as { weight_map?: Record<string, unknown> };
      // shard names from a hub are file names of that repo: nothing with a path, nothing that is not text
      files = [...new Set(Object.values(idx.weight_map ?? {}))].filter((f): f is string => typeof f === "string" && /^[\w.-]+\.safetensors$/.test(f));
      if (files.length === 0) throw new Error("its index names no .safetensors shard");
    } catch (e) {
      if (!(e instanceof HttpStatus) || e.status !== 404) throw e;
      files = ["model.safetensors"];
    }
    const parts: SafetensorsSummary[] = [];
    for (const f of files) parts.push(await fetchHeader(base, f));
    const all = mergeSafetensorsSummaries(parts);
    const fl = floatTensors(all);
    stored = { files, totalBytes: all.totalBytes, floatBytes: fl.bytes, floatParams: fl.params, bytesByDtype: all.bytesByDtype };
  } catch (e) {
    note = ` (no safetensors headers: ${reasonOf(e)}; weights from the config)`;
  }
  const dir = hubCacheDir(id);
  fs.mkdirSync(dir, { recursive: true });
  // each file whole or not at all (a crash mid-write must not leave a truncated cache entry); config.json last:
  // it is what marks the entry as fetched
  const write = (name: string, value: unknown) => {
    const tmp = path.join(dir, `${name}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(value, null, 2));
    fs.renameSync(tmp, path.join(dir, name));
  };
  if (stored) write("safetensors.json", stored);
  else fs.rmSync(path.join(dir, "safetensors.json"), { force: true });
  write("fetched.json", { id, endpoint, date: new Date().toISOString() });
  write("config.json", config);
  const what = stored ? `config.json and ${stored.files.length} safetensors header${stored.files.length === 1 ? "" : "s"}` : "config.json";
  return { entry: { config, stored }, fetched: true, note: `fetched ${what} of ${id} from ${endpoint}${note}; cached in ${dir}` };
}
