// Reads the header of a GGUF (v2/v3) file incrementally — metadata key/values and tensor infos —
// and sums stored bytes per ggml type. Never reads the tensor data or the whole file.
import * as fs from "node:fs";
import { FitlabInputError } from "../errors.js";
import { LIMITS } from "../input/limits.js";
import { describeFsError } from "../input/read.js";
import { oneLine, shownString } from "../input/shown.js";

export type GgufValue = string | number | boolean | bigint | GgufValue[];

export interface GgufSummary {
  version: number;
  tensors: number;
  totalBytes: number;
  totalParams: number;
  bytesByType: Record<string, number>;
  /** metadata key/values; arrays with more than MAX_KEPT_ARRAY elements are skipped (see arrayLengths) */
  metadata: Record<string, GgufValue>;
  /** length of every top-level array value, kept or skipped (e.g. tokenizer.ggml.tokens = vocab size) */
  arrayLengths: Record<string, number>;
  architecture: string | null;
  fileType: number | null;
  /** tensor names in file order (e.g. "output.weight" is absent when the output head is tied) */
  tensorNames: string[];
  /** bytes and elements of floating-point tensors (F32, F16, BF16) */
  floatBytes: number;
  floatParams: number;
}

/** ggml type id -> [name, block size (elements), type size (bytes per block)], as in ggml's type_traits. */
export const GGML_TYPES: Readonly<Record<number, readonly [string, number, number]>> = {
  0: ["F32", 1, 4],
  1: ["F16", 1, 2],
  2: ["Q4_0", 32, 18],
  3: ["Q4_1", 32, 20],
  6: ["Q5_0", 32, 22],
  7: ["Q5_1", 32, 24],
  8: ["Q8_0", 32, 34],
  9: ["Q8_1", 32, 36], // ggml-common.h: 2 halves + 32 quants (gguf-py still says 40, the old float layout)
  10: ["Q2_K", 256, 84],
  11: ["Q3_K", 256, 110],
  12: ["Q4_K", 256, 144],
  13: ["Q5_K", 256, 176],
  14: ["Q6_K", 256, 210],
  15: ["Q8_K", 256, 292],
  16: ["IQ2_XXS", 256, 66],
  17: ["IQ2_XS", 256, 74],
  18: ["IQ3_XXS", 256, 98],
  19: ["IQ1_S", 256, 50],
  20: ["IQ4_NL", 32, 18],
  21: ["IQ3_S", 256, 110],
  22: ["IQ2_S", 256, 82],
  23: ["IQ4_XS", 256, 136],
  24: ["I8", 1, 1],
  25: ["I16", 1, 2],
  26: ["I32", 1, 4],
  27: ["I64", 1, 8],
  28: ["F64", 1, 8],
  29: ["IQ1_M", 256, 56],
  30: ["BF16", 1, 2],
  34: ["TQ1_0", 256, 54],
  35: ["TQ2_0", 256, 66],
  39: ["MXFP4", 32, 17],
  40: ["NVFP4", 64, 36],
  41: ["Q1_0", 128, 18],
};

const MAX_KEPT_ARRAY = 64;
const MAX_DIMS = 4; // GGML_MAX_DIMS
const DEFAULT_ALIGNMENT = 32;

// GGUF metadata value types
const T_U8 = 0, T_I8 = 1, T_U16 = 2, T_I16 = 3, T_U32 = 4, T_I32 = 5, T_F32 = 6, T_BOOL = 7;
const T_STRING = 8, T_ARRAY = 9, T_U64 = 10, T_I64 = 11, T_F64 = 12;
const FIXED_SIZE: Record<number, number> = {
  [T_U8]: 1, [T_I8]: 1, [T_U16]: 2, [T_I16]: 2, [T_U32]: 4, [T_I32]: 4, [T_F32]: 4, [T_BOOL]: 1,
  [T_U64]: 8, [T_I64]: 8, [T_F64]: 8,
};

/** Sequential little-endian reader over a file descriptor with a sliding buffer. */
class BufferedReader {
  private buf: Buffer;
  private bufStart = 0; // file offset of buf[0]
  private bufLen = 0;
  pos = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly file: string,
    chunk = 1 << 20,
  ) {
    this.buf = Buffer.alloc(chunk);
  }

  fail(problem: string): never {
    throw new FitlabInputError(oneLine(`${this.file}: ${problem}`));
  }

  /** Make [pos, pos+n) available in buf and return its index there. */
  private need(n: number, what: string): number {
    if (this.pos + n > this.size) this.fail(`unexpected end of file reading ${what} at byte ${this.pos} (file is ${this.size} bytes); truncated?`);
    if (this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.bufLen) return this.pos - this.bufStart;
    if (n > this.buf.length) this.buf = Buffer.alloc(n);
    const want = Math.min(this.buf.length, this.size - this.pos);
    let got = 0;
    while (got < want) {
      const r = fs.readSync(this.fd, this.buf, got, want - got, this.pos + got);
      if (r <= 0) break;
      got += r;
    }
    this.bufStart = this.pos;
    this.bufLen = got;
    if (got < n) this.fail(`short read at byte ${this.pos}`);
    return 0;
  }

  skip(n: number | bigint, what: string): void {
    const nb = BigInt(n);
    if (BigInt(this.pos) + nb > BigInt(this.size)) this.fail(`unexpected end of file skipping ${what} at byte ${this.pos}; truncated?`);
    this.pos += Number(nb);
  }

  bytes(n: number, what: string): Buffer {
    const i = this.need(n, what);
    this.pos += n;
    return this.buf.subarray(i, i + n);
  }
  u8(w: string): number { const i = this.need(1, w); this.pos += 1; return this.buf.readUInt8(i); }
  i8(w: string): number { const i = this.need(1, w); this.pos += 1; return this.buf.readInt8(i); }
  u16(w: string): number { const i = this.need(2, w); this.pos += 2; return this.buf.readUInt16LE(i); }
  i16(w: string): number { const i = this.need(2, w); this.pos += 2; return this.buf.readInt16LE(i); }
  u32(w: string): number { const i = this.need(4, w); this.pos += 4; return this.buf.readUInt32LE(i); }
  i32(w: string): number { const i = this.need(4, w); this.pos += 4; return this.buf.readInt32LE(i); }
  f32(w: string): number { const i = this.need(4, w); this.pos += 4; return this.buf.readFloatLE(i); }
  f64(w: string): number { const i = this.need(8, w); this.pos += 8; return this.buf.readDoubleLE(i); }
  u64(w: string): bigint { const i = this.need(8, w); this.pos += 8; return this.buf.readBigUInt64LE(i); }
  i64(w: string): bigint { const i = this.need(8, w); this.pos += 8; return this.buf.readBigInt64LE(i); }

  /** A u64 that must fit the rest of the file (a count or length); returned as a number. */
  len(w: string): number {
    const v = this.u64(w);
    if (v > BigInt(this.size)) this.fail(`${w} ${v} is larger than the file; corrupt header?`);
    return Number(v);
  }

  string(w: string): string {
    const n = this.len(`${w} length`);
    if (n > LIMITS.ggufStringBytes) this.fail(`${w} is ${n} bytes long, above the ${LIMITS.ggufStringBytes}-byte limit for one string`);
    const raw = this.bytes(n, w);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      return this.fail(`${w} is not UTF-8 text (at byte ${this.pos - n})`);
    }
  }
  skipString(w: string): void {
    this.skip(this.len(`${w} length`), w);
  }
}

function small(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readScalar(r: BufferedReader, type: number, w: string): GgufValue {
  switch (type) {
    case T_U8: return r.u8(w);
    case T_I8: return r.i8(w);
    case T_U16: return r.u16(w);
    case T_I16: return r.i16(w);
    case T_U32: return r.u32(w);
    case T_I32: return r.i32(w);
    case T_F32: return r.f32(w);
    case T_BOOL: {
      const b = r.u8(w);
      if (b > 1) r.fail(`${w}: bool value ${b} is not 0 or 1`);
      return b === 1;
    }
    case T_STRING: return r.string(w);
    case T_U64: return small(r.u64(w));
    case T_I64: return small(r.i64(w));
    case T_F64: return r.f64(w);
    default: return r.fail(`${w}: unknown GGUF value type ${type}`);
  }
}

/** Skip a value of the given type without storing it. `depth` counts enclosing arrays. */
function skipValue(r: BufferedReader, type: number, w: string, depth: number): void {
  const fixed = FIXED_SIZE[type];
  if (fixed !== undefined) return r.skip(fixed, w);
  if (type === T_STRING) return r.skipString(w);
  if (type === T_ARRAY) {
    const et = r.u32(`${w} array type`);
    const n = r.len(`${w} array length`);
    return skipArrayBody(r, et, n, w, depth + 1);
  }
  r.fail(`${w}: unknown GGUF value type ${type}`);
}

/** Arrays of arrays: refused past LIMITS.ggufArrayDepth levels (a crafted file could nest them thousands deep). */
function checkArray(r: BufferedReader, et: number, n: number, w: string, depth: number): void {
  if (depth > LIMITS.ggufArrayDepth) r.fail(`${w}: arrays nested more than ${LIMITS.ggufArrayDepth} levels deep (the limit)`);
  // every string or array element takes at least 8 bytes (its length): n of them must fit the rest of the file
  if ((et === T_STRING || et === T_ARRAY) && n * 8 > r.size - r.pos) r.fail(`${w}: array of ${n} elements runs past the end of file; truncated or corrupt?`);
}

function skipArrayBody(r: BufferedReader, et: number, n: number, w: string, depth: number): void {
  checkArray(r, et, n, w, depth);
  const fixed = FIXED_SIZE[et];
  if (fixed !== undefined) return r.skip(BigInt(fixed) * BigInt(n), `${w} array`);
  if (et !== T_STRING && et !== T_ARRAY) r.fail(`${w}: unknown GGUF array element type ${et}`);
  for (let i = 0; i < n; i++) skipValue(r, et, w, depth);
}

/** Read a value; arrays longer than MAX_KEPT_ARRAY are skipped and yield undefined. */
function readValue(r: BufferedReader, type: number, w: string, lengths?: { n: number }, depth = 0): GgufValue | undefined {
  if (type !== T_ARRAY) return readScalar(r, type, w);
  const et = r.u32(`${w} array type`);
  const n = r.len(`${w} array length`);
  if (lengths) lengths.n = n;
  checkArray(r, et, n, w, depth + 1);
  if (n > MAX_KEPT_ARRAY) {
    skipArrayBody(r, et, n, w, depth + 1);
    return undefined;
  }
  const out: GgufValue[] = [];
  for (let i = 0; i < n; i++) {
    const v = readValue(r, et, w, undefined, depth + 1);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** Parse the header of a GGUF v2/v3 file. */
export function readGgufHeader(path: string): GgufSummary {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FitlabInputError(`${path}: ${code === "ENOENT" ? "file not found" : describeFsError(e)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new FitlabInputError(`${path}: is a folder, not a GGUF file`);
    if (!st.isFile()) throw new FitlabInputError(`${path}: is not a regular file`);
    const r: BufferedReader = new BufferedReader(fd, st.size, path);
    if (r.size < 4) r.fail(`too short for a GGUF file (${r.size} bytes)`);
    const magic = r.bytes(4, "magic");
    if (magic.toString("latin1") !== "GGUF") r.fail(`bad magic ${JSON.stringify(magic.toString("latin1"))}; not a GGUF file`);
    const version = r.u32("version");
    if (version === 1) r.fail("GGUF version 1 is not supported (only v2 and v3)");
    if (version !== 2 && version !== 3) {
      if ((version & 0xffff) === 0 && version !== 0) r.fail("big-endian GGUF files are not supported");
      r.fail(`unsupported GGUF version ${version} (only v2 and v3)`);
    }
    const tensorCount = r.len("tensor_count");
    const kvCount = r.len("kv_count");
    if (tensorCount > LIMITS.ggufTensors) r.fail(`tensor_count ${tensorCount} is above the limit of ${LIMITS.ggufTensors}`);
    if (kvCount > LIMITS.ggufKeyValues) r.fail(`kv_count ${kvCount} is above the limit of ${LIMITS.ggufKeyValues}`);

    const metadata: Record<string, GgufValue> = {};
    const arrayLengths: Record<string, number> = {};
    for (let i = 0; i < kvCount; i++) {
      const key = r.string(`metadata key #${i}`);
      const type = r.u32(`type of ${shownString(key)}`);
      const lengths = { n: -1 };
      const v = readValue(r, type, shownString(key), lengths);
      if (type === T_ARRAY) arrayLengths[key] = lengths.n;
      if (v !== undefined) metadata[key] = v;
    }

    let alignment = DEFAULT_ALIGNMENT;
    const al = metadata["general.alignment"];
    if (al !== undefined) {
      if (typeof al !== "number" || !Number.isInteger(al) || al <= 0 || (al & (al - 1)) !== 0) {
        r.fail(`general.alignment ${String(al)} is not a positive power of two`);
      }
      alignment = al;
    }

    interface Info { name: string; type: number; elems: bigint; bytes: bigint; offset: bigint }
    const infos: Info[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = r.string(`tensor #${i} name`);
      const nDims = r.u32(`tensor ${shownString(name)} n_dims`);
      if (nDims > MAX_DIMS) r.fail(`tensor ${shownString(name)}: n_dims ${nDims} exceeds ${MAX_DIMS}`);
      const dims: bigint[] = [];
      for (let d = 0; d < nDims; d++) dims.push(r.u64(`tensor ${shownString(name)} dims`));
      const type = r.u32(`tensor ${shownString(name)} type`);
      const offset = r.u64(`tensor ${shownString(name)} offset`);
      const traits = GGML_TYPES[type];
      if (!traits) r.fail(`tensor ${shownString(name)}: unknown ggml type ${type}`);
      const [tname, blck, tsize] = traits;
      const elems = dims.reduce((a, b) => a * b, 1n);
      const ne0 = dims[0] ?? 1n;
      if (ne0 % BigInt(blck) !== 0n) {
        r.fail(`tensor ${shownString(name)}: first dimension ${ne0} is not a multiple of the ${tname} block size ${blck}`);
      }
      if (offset % BigInt(alignment) !== 0n) r.fail(`tensor ${shownString(name)}: offset ${offset} is not aligned to ${alignment}`);
      infos.push({ name, type, elems, bytes: (elems / BigInt(blck)) * BigInt(tsize), offset });
    }

    // tensor data starts at the next multiple of the alignment after the tensor infos
    const dataStart = BigInt(Math.ceil(r.pos / alignment) * alignment);
    const dataSize = BigInt(r.size) - dataStart;
    let totalBytes = 0n;
    let totalParams = 0n;
    let floatBytes = 0n;
    let floatParams = 0n;
    const bytesByType: Record<string, number> = {};
    // tensors may not share bytes: sorted by offset, each starts at or after the previous one's end
    const byOffset = [...infos].filter((t) => t.bytes > 0n).sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    for (let i = 1; i < byOffset.length; i++) {
      const p = byOffset[i - 1]!;
      const t = byOffset[i]!;
      if (t.offset < p.offset + p.bytes) r.fail(`tensors ${shownString(p.name)} [${p.offset}, ${p.offset + p.bytes}) and ${shownString(t.name)} (from ${t.offset}) overlap in the data section`);
    }
    for (const t of infos) {
      if (t.offset + t.bytes > dataSize) {
        r.fail(`tensor ${shownString(t.name)}: data [${t.offset}, ${t.offset + t.bytes}) runs past the end of the file; truncated?`);
      }
      const tname = GGML_TYPES[t.type]![0];
      bytesByType[tname] = (bytesByType[tname] ?? 0) + Number(t.bytes);
      totalBytes += t.bytes;
      totalParams += t.elems;
      if (tname === "F32" || tname === "F16" || tname === "BF16") {
        floatBytes += t.bytes;
        floatParams += t.elems;
      }
    }

    const arch = metadata["general.architecture"];
    const ft = metadata["general.file_type"];
    return {
      version,
      tensors: tensorCount,
      totalBytes: Number(totalBytes),
      totalParams: Number(totalParams),
      bytesByType,
      metadata,
      arrayLengths,
      architecture: typeof arch === "string" ? arch : null,
      fileType: typeof ft === "number" ? ft : null,
      tensorNames: infos.map((t) => t.name),
      floatBytes: Number(floatBytes),
      floatParams: Number(floatParams),
    };
  } finally {
    fs.closeSync(fd);
  }
}
