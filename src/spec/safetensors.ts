// Reads only the headers of .safetensors files (never the tensor data) and sums stored bytes and
// parameters. Format: 8-byte little-endian header length N, then N bytes of JSON, then the data.
import * as fs from "node:fs";
import * as path from "node:path";
import { FitlabInputError } from "../errors.js";
import { parseJsonText, readJsonFile } from "../input/json.js";
import { LIMITS } from "../input/limits.js";
import { describeFsError, statInputFile } from "../input/read.js";
import { oneLine, shownString } from "../input/shown.js";

export interface SafetensorsSummary {
  files: string[];
  tensors: number;
  /** bytes of tensor data, from data_offsets (end - start) */
  totalBytes: number;
  /** elements, from the product of each shape (packed dtypes such as U8-held 4-bit count stored elements) */
  totalParams: number;
  bytesByDtype: Record<string, number>;
  paramsByDtype: Record<string, number>;
  metadata: Record<string, string>;
}

/** Size in bits of one element of each safetensors dtype (as in the safetensors crate's Dtype::bitsize). */
export const SAFETENSORS_DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};

/** Largest header we accept; real headers are a few MB at most. */
const MAX_HEADER_BYTES = LIMITS.safetensorsHeaderBytes;

function fail(file: string, problem: string): never {
  throw new FitlabInputError(oneLine(`${file}: ${problem}`));
}

function emptySummary(): SafetensorsSummary {
  return { files: [], tensors: 0, totalBytes: 0, totalParams: 0, bytesByDtype: {}, paramsByDtype: {}, metadata: {} };
}

function addTo(rec: Record<string, number>, key: string, n: number): void {
  rec[key] = (rec[key] ?? 0) + n;
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

/** Parsed header: tensor names plus the summary of one file. */
interface ParsedFile {
  summary: SafetensorsSummary;
  names: Set<string>;
}

function readFileHeader(file: string): ParsedFile {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    fail(file, (e as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : describeFsError(e));
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) fail(file, "is a folder, not a safetensors file");
    if (!st.isFile()) fail(file, "is not a regular file");
    const size = st.size;
    if (size < 8) fail(file, `too short for a safetensors file (${size} bytes, need at least 8)`);
    const lenBuf = Buffer.alloc(8);
    if (fs.readSync(fd, lenBuf, 0, 8, 0) !== 8) fail(file, "could not read the 8-byte header length");
    const headerLen = lenBuf.readBigUInt64LE(0);
    if (headerLen > BigInt(MAX_HEADER_BYTES)) {
      fail(file, `header length ${headerLen} bytes is absurd (limit ${MAX_HEADER_BYTES}); not a safetensors file?`);
    }
    const n = Number(headerLen);
    if (8 + n > size) fail(file, `header length ${n} bytes runs past the end of the file (${size} bytes); truncated?`);
    const hdr = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = fs.readSync(fd, hdr, got, n - got, 8 + got);
      if (r <= 0) fail(file, "unexpected end of file while reading the header");
      got += r;
    }
    const dataSize = size - 8 - n;
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(hdr);
    } catch {
      fail(file, "header is not UTF-8 text; not a safetensors file?");
    }
    // the format puts the JSON object first (trailing spaces pad it to an alignment)
    if (!text.startsWith("{")) fail(file, "header does not start with '{'; not a safetensors file?");
    return parseHeader(file, text, dataSize);
  } finally {
    fs.closeSync(fd);
  }
}

function parseHeader(file: string, text: string, dataSize: number): ParsedFile {
  const json = parseJsonText(text, `${file} header`);
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail(file, "header JSON is not an object");
  const entries = Object.entries(json as Record<string, unknown>);
  if (entries.length > LIMITS.tensors + 1) fail(file, `header lists ${entries.length} tensors, above the limit of ${LIMITS.tensors}`);
  const s = emptySummary();
  s.files.push(file);
  const names = new Set<string>();
  const spans: [number, number, string][] = [];
  for (const [name, raw] of entries) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail(file, "__metadata__ is not an object");
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        s.metadata[k] = typeof v === "string" ? v : JSON.stringify(v);
      }
      continue;
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail(file, `tensor ${shownString(name)}: entry is not an object`);
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t.dtype !== "string") fail(file, `tensor ${shownString(name)}: missing dtype`);
    const bits = SAFETENSORS_DTYPE_BITS[t.dtype];
    if (bits === undefined) fail(file, `tensor ${shownString(name)}: unknown dtype ${shownString(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt)) {
      fail(file, `tensor ${shownString(name)}: shape must be an array of non-negative integers`);
    }
    const shape = t.shape as number[];
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !isNonNegInt(off[0]) || !isNonNegInt(off[1])) {
      fail(file, `tensor ${shownString(name)}: data_offsets must be [start, end] non-negative integers`);
    }
    const start = off[0] as number;
    const end = off[1] as number;
    if (end < start) fail(file, `tensor ${shownString(name)}: data_offsets end ${end} < start ${start}`);
    if (end > dataSize) {
      fail(file, `tensor ${shownString(name)}: data_offsets end ${end} is past the data section (${dataSize} bytes); truncated?`);
    }
    let elems = 1n;
    for (const d of shape) elems *= BigInt(d);
    const totalBits = elems * BigInt(bits);
    if (totalBits % 8n !== 0n) fail(file, `tensor ${shownString(name)}: ${elems} elements of ${t.dtype} do not fill whole bytes`);
    const expected = totalBits / 8n;
    const bytes = end - start;
    if (BigInt(bytes) !== expected) {
      fail(file, `tensor ${shownString(name)}: data_offsets span ${bytes} bytes but shape [${shape.join(", ")}] of ${t.dtype} needs ${expected}`);
    }
    const params = Number(elems);
    if (bytes > 0) spans.push([start, end, name]);
    names.add(name);
    s.tensors += 1;
    s.totalBytes += bytes;
    s.totalParams += params;
    addTo(s.bytesByDtype, t.dtype, bytes);
    addTo(s.paramsByDtype, t.dtype, params);
  }
  // two tensors may not share bytes (the safetensors crate refuses overlapping or out-of-order data too)
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < spans.length; i++) {
    const [prevStart, prevEnd, prevName] = spans[i - 1]!;
    const [start, , name] = spans[i]!;
    if (start < prevEnd) fail(file, `tensors ${shownString(prevName)} [${prevStart}, ${prevEnd}) and ${shownString(name)} (from ${start}) overlap in the data section`);
  }
  return { summary: s, names };
}

/** Summarise a header already fetched (e.g. by HTTP range requests): `text` is the JSON after the 8-byte
 *  length, `dataSize` the bytes after the header (file size - 8 - header length). */
export function summarizeSafetensorsHeader(name: string, text: string, dataSize: number): SafetensorsSummary {
  return parseHeader(name, text, dataSize).summary;
}

/** Merge per-file summaries (shards) into one. */
export function mergeSafetensorsSummaries(parts: readonly SafetensorsSummary[]): SafetensorsSummary {
  const out = emptySummary();
  for (const p of parts) merge(out, p);
  return out;
}

/** Bytes and elements of the floating-point tensors (what a dtype cast on load resizes). */
export function floatTensors(s: SafetensorsSummary): { bytes: number; params: number } {
  let bytes = 0;
  let params = 0;
  for (const d of ["F32", "F16", "BF16", "F64"]) {
    bytes += s.bytesByDtype[d] ?? 0;
    params += s.paramsByDtype[d] ?? 0;
  }
  return { bytes, params };
}

/** Summarise one .safetensors file from its header alone. */
export function readSafetensorsHeader(filePath: string): SafetensorsSummary {
  return readFileHeader(filePath).summary;
}

function merge(into: SafetensorsSummary, s: SafetensorsSummary): void {
  into.files.push(...s.files);
  into.tensors += s.tensors;
  into.totalBytes += s.totalBytes;
  into.totalParams += s.totalParams;
  for (const [k, v] of Object.entries(s.bytesByDtype)) addTo(into.bytesByDtype, k, v);
  for (const [k, v] of Object.entries(s.paramsByDtype)) addTo(into.paramsByDtype, k, v);
  for (const [k, v] of Object.entries(s.metadata)) if (!(k in into.metadata)) into.metadata[k] = v;
}

/**
 * The path of a shard named in an index, confined to the model folder: a plain relative file name, no
 * "..", not absolute, and (after symbolic links) still inside the folder.
 */
export function shardPathInside(dir: string, shard: string, indexPath: string): string {
  if (shard.includes("\0") || shard.includes("\\") || path.isAbsolute(shard) || path.win32.isAbsolute(shard)) {
    fail(indexPath, `shard ${shownString(shard)} must be a file name inside the model folder, not an absolute path`);
  }
  if (shard.split("/").some((part) => part === ".." || part === "")) fail(indexPath, `shard ${shownString(shard)} must be a file name inside the model folder (no "..")`);
  const full = path.join(dir, shard);
  let real: string;
  let realDir: string;
  try {
    realDir = fs.realpathSync(dir);
    real = fs.realpathSync(full);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") fail(indexPath, `shard ${shownString(shard)} named in weight_map is missing`);
    fail(indexPath, `shard ${shownString(shard)} ${describeFsError(e)}`);
  }
  const inside = (root: string) => real === root || real.startsWith(root + path.sep);
  // the Hugging Face cache keeps files in blobs/ and links them from snapshots/<revision>/: allowed
  const hfBlobs = path.basename(path.dirname(realDir)) === "snapshots" ? path.join(path.dirname(path.dirname(realDir)), "blobs") : null;
  if (!inside(realDir) && !(hfBlobs && inside(hfBlobs))) fail(indexPath, `shard ${shownString(shard)} is a link that leads outside the model folder`);
  return full;
}

function readSharded(dir: string, indexPath: string): SafetensorsSummary {
  let json: unknown;
  try {
    statInputFile(indexPath, "index", LIMITS.indexBytes);
    json = readJsonFile(indexPath, "index", LIMITS.indexBytes);
  } catch (e) {
    if (e instanceof FitlabInputError) throw e;
    fail(indexPath, describeFsError(e));
  }
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (wm === null || typeof wm !== "object" || Array.isArray(wm)) fail(indexPath, "index has no weight_map object");
  const mapped = Object.entries(wm as Record<string, unknown>);
  if (mapped.length > LIMITS.tensors) fail(indexPath, `weight_map lists ${mapped.length} tensors, above the limit of ${LIMITS.tensors}`);
  // shard file -> tensor names the index places there (in first-appearance order)
  const shards = new Map<string, string[]>();
  for (const [tensor, shard] of mapped) {
    if (typeof shard !== "string" || shard === "") fail(indexPath, `weight_map entry ${shownString(tensor)} is not a file name`);
    let list = shards.get(shard);
    if (!list) shards.set(shard, (list = []));
    list.push(tensor);
  }
  if (shards.size === 0) fail(indexPath, "weight_map is empty");
  const out = emptySummary();
  const idxMeta = (json as { metadata?: unknown }).metadata;
  if (idxMeta !== null && typeof idxMeta === "object" && !Array.isArray(idxMeta)) {
    for (const [k, v] of Object.entries(idxMeta as Record<string, unknown>)) {
      out.metadata[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
  }
  for (const shard of shards.keys()) shardPathInside(dir, shard, indexPath);
  for (const [shard, tensors] of shards) {
    const shardPath = shardPathInside(dir, shard, indexPath);
    const parsed = readFileHeader(shardPath);
    for (const t of tensors) {
      if (!parsed.names.has(t)) fail(shardPath, `tensor ${shownString(t)} listed in the index is not in this shard`);
    }
    merge(out, parsed.summary);
  }
  return out;
}

/**
 * Summarise a model stored as safetensors: a single file, a folder with model.safetensors,
 * or a sharded folder with model.safetensors.index.json.
 */
export function readSafetensorsModel(dirOrFile: string): SafetensorsSummary {
  let st: fs.Stats;
  try {
    st = fs.statSync(dirOrFile);
  } catch {
    fail(dirOrFile, "no such file or folder");
  }
  if (st.isFile()) return readSafetensorsHeader(dirOrFile);
  if (!st.isDirectory()) fail(dirOrFile, "not a file or folder");
  const index = path.join(dirOrFile, "model.safetensors.index.json");
  if (fs.existsSync(index)) return readSharded(dirOrFile, index);
  const single = path.join(dirOrFile, "model.safetensors");
  if (fs.existsSync(single)) return readSafetensorsHeader(single);
  fail(dirOrFile, "folder has neither model.safetensors nor model.safetensors.index.json");
}
