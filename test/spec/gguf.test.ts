import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FitlabInputError } from "../../src/errors.js";
import { readGgufHeader } from "../../src/spec/gguf.js";
import { inputError } from "../helpers.js";

// GGUF value types
const U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STR = 8, ARR = 9, U64 = 10, I64 = 11, F64 = 12;
// ggml types
const G_F16 = 1, G_Q8_0 = 8, G_Q4_K = 12;

/** Little-endian byte writer for building GGUF files in tests. */
class W {
  parts: Buffer[] = [];
  get length(): number { return this.parts.reduce((a, b) => a + b.length, 0); }
  raw(b: Buffer): this { this.parts.push(b); return this; }
  u8(v: number): this { const b = Buffer.alloc(1); b.writeUInt8(v); return this.raw(b); }
  i8(v: number): this { const b = Buffer.alloc(1); b.writeInt8(v); return this.raw(b); }
  u16(v: number): this { const b = Buffer.alloc(2); b.writeUInt16LE(v); return this.raw(b); }
  i16(v: number): this { const b = Buffer.alloc(2); b.writeInt16LE(v); return this.raw(b); }
  u32(v: number): this { const b = Buffer.alloc(4); b.writeUInt32LE(v); return this.raw(b); }
  i32(v: number): this { const b = Buffer.alloc(4); b.writeInt32LE(v); return this.raw(b); }
  f32(v: number): this { const b = Buffer.alloc(4); b.writeFloatLE(v); return this.raw(b); }
  f64(v: number): this { const b = Buffer.alloc(8); b.writeDoubleLE(v); return this.raw(b); }
  u64(v: number | bigint): this { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return this.raw(b); }
  i64(v: number | bigint): this { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); return this.raw(b); }
  str(s: string): this { const b = Buffer.from(s, "utf8"); return this.u64(b.length).raw(b); }
  build(): Buffer { return Buffer.concat(this.parts); }
}

type KV = (w: W) => void;
const kv = {
  str: (k: string, v: string): KV => (w) => w.str(k).u32(STR).str(v),
  u32: (k: string, v: number): KV => (w) => w.str(k).u32(U32).u32(v),
  i32: (k: string, v: number): KV => (w) => w.str(k).u32(I32).i32(v),
  u8: (k: string, v: number): KV => (w) => w.str(k).u32(U8).u8(v),
  i8: (k: string, v: number): KV => (w) => w.str(k).u32(I8).i8(v),
  u16: (k: string, v: number): KV => (w) => w.str(k).u32(U16).u16(v),
  i16: (k: string, v: number): KV => (w) => w.str(k).u32(I16).i16(v),
  f32: (k: string, v: number): KV => (w) => w.str(k).u32(F32).f32(v),
  f64: (k: string, v: number): KV => (w) => w.str(k).u32(F64).f64(v),
  bool: (k: string, v: boolean): KV => (w) => w.str(k).u32(BOOL).u8(v ? 1 : 0),
  u64: (k: string, v: bigint): KV => (w) => w.str(k).u32(U64).u64(v),
  i64: (k: string, v: bigint): KV => (w) => w.str(k).u32(I64).i64(v),
  strArr: (k: string, v: string[]): KV => (w) => { w.str(k).u32(ARR).u32(STR).u64(v.length); for (const s of v) w.str(s); },
  i32Arr: (k: string, v: number[]): KV => (w) => { w.str(k).u32(ARR).u32(I32).u64(v.length); for (const x of v) w.i32(x); },
  f32Arr: (k: string, v: number[]): KV => (w) => { w.str(k).u32(ARR).u32(F32).u64(v.length); for (const x of v) w.f32(x); },
  nested: (k: string, v: number[][]): KV => (w) => {
    w.str(k).u32(ARR).u32(ARR).u64(v.length);
    for (const inner of v) { w.u32(U8).u64(inner.length); for (const x of inner) w.u8(x); }
  },
};

interface TI { name: string; dims: number[]; type: number; bytes: number }

/** Build a GGUF file: header, KVs, tensor infos, alignment padding, zeroed data. */
function buildGguf(kvs: KV[], tensors: TI[], opts: { version?: number; alignment?: number; magic?: string } = {}): Buffer {
  const align = opts.alignment ?? 32;
  const w = new W();
  w.raw(Buffer.from(opts.magic ?? "GGUF", "latin1")).u32(opts.version ?? 3).u64(tensors.length).u64(kvs.length);
  for (const f of kvs) f(w);
  let off = 0;
  for (const t of tensors) {
    w.str(t.name).u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type).u64(off);
    off += Math.ceil(t.bytes / align) * align;
  }
  const pad = (align - (w.length % align)) % align;
  w.raw(Buffer.alloc(pad));
  w.raw(Buffer.alloc(off));
  return w.build();
}

const TENSORS: TI[] = [
  { name: "token_embd.weight", dims: [64, 4], type: G_F16, bytes: 256 * 2 }, // 512
  { name: "blk.0.ffn_down.weight", dims: [256, 2], type: G_Q4_K, bytes: 2 * 144 }, // 288
  { name: "blk.0.attn_q.weight", dims: [32, 3], type: G_Q8_0, bytes: 3 * 34 }, // 102
];

const TOKENS = Array.from({ length: 100_000 }, (_, i) => `tok_${i}`); // > 1 MiB of strings: forces buffer refills

function fullKvs(): KV[] {
  return [
    kv.str("general.architecture", "llama"),
    kv.str("general.name", "tiny"),
    kv.u32("general.file_type", 15),
    kv.u32("llama.context_length", 4096),
    kv.f32("llama.attention.layer_norm_rms_epsilon", 0.5),
    kv.f64("llama.rope.freq_base", 10000),
    kv.bool("tokenizer.ggml.add_bos_token", true),
    kv.u8("x.u8", 200),
    kv.i8("x.i8", -5),
    kv.u16("x.u16", 65000),
    kv.i16("x.i16", -300),
    kv.i32("x.i32", -70000),
    kv.u64("x.u64.small", 123n),
    kv.u64("x.u64.big", 2n ** 60n),
    kv.i64("x.i64", -42n),
    kv.strArr("tokenizer.ggml.tokens", TOKENS),
    kv.i32Arr("tokenizer.ggml.token_type", Array.from({ length: 1000 }, () => 1)),
    kv.strArr("general.tags", ["a", "b", "c"]),
    kv.f32Arr("x.small_floats", [1, 2.5]),
    kv.nested("x.nested", [[1, 2], [3]]),
  ];
}

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-gguf-")); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function write(name: string, buf: Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, buf);
  return p;
}


describe("readGgufHeader", () => {
  it("parses a v3 file: metadata, tensor infos, exact bytes and params", () => {
    const f = write("tiny.gguf", buildGguf(fullKvs(), TENSORS));
    const s = readGgufHeader(f);
    expect(s.version).toBe(3);
    expect(s.tensors).toBe(3);
    expect(s.totalBytes).toBe(512 + 288 + 102);
    expect(s.totalParams).toBe(256 + 512 + 96);
    expect(s.bytesByType).toEqual({ F16: 512, Q4_K: 288, Q8_0: 102 });
    expect(s.architecture).toBe("llama");
    expect(s.fileType).toBe(15);
    const m = s.metadata;
    expect(m["general.name"]).toBe("tiny");
    expect(m["llama.context_length"]).toBe(4096);
    expect(m["llama.attention.layer_norm_rms_epsilon"]).toBe(0.5);
    expect(m["llama.rope.freq_base"]).toBe(10000);
    expect(m["tokenizer.ggml.add_bos_token"]).toBe(true);
    expect([m["x.u8"], m["x.i8"], m["x.u16"], m["x.i16"], m["x.i32"]]).toEqual([200, -5, 65000, -300, -70000]);
    expect(m["x.u64.small"]).toBe(123);
    expect(m["x.u64.big"]).toBe(2n ** 60n);
    expect(m["x.i64"]).toBe(-42);
    expect(m["general.tags"]).toEqual(["a", "b", "c"]);
    expect(m["x.small_floats"]).toEqual([1, 2.5]);
    expect(m["x.nested"]).toEqual([[1, 2], [3]]);
    // big arrays are skipped, but their lengths are kept
    expect(m["tokenizer.ggml.tokens"]).toBeUndefined();
    expect(m["tokenizer.ggml.token_type"]).toBeUndefined();
    expect(s.arrayLengths).toEqual({
      "tokenizer.ggml.tokens": 100_000,
      "tokenizer.ggml.token_type": 1000,
      "general.tags": 3,
      "x.small_floats": 2,
      "x.nested": 2,
    });
  });

  it("parses v2 and honours general.alignment", () => {
    const f = write("v2.gguf", buildGguf([kv.u32("general.alignment", 64)], TENSORS, { version: 2, alignment: 64 }));
    const s = readGgufHeader(f);
    expect(s.version).toBe(2);
    expect(s.totalBytes).toBe(902);
    expect(s.architecture).toBeNull();
    expect(s.fileType).toBeNull();
  });

  it("handles a file with no tensors", () => {
    const s = readGgufHeader(write("empty.gguf", buildGguf([kv.str("general.architecture", "qwen2")], [])));
    expect(s.tensors).toBe(0);
    expect(s.totalBytes).toBe(0);
    expect(s.architecture).toBe("qwen2");
  });

  it("rejects a bad magic", () => {
    const f = write("bad-magic.gguf", buildGguf([], TENSORS, { magic: "GGML" }));
    const e = inputError(() => readGgufHeader(f));
    expect(e.message).toContain(f);
    expect(e.message).toMatch(/bad magic/);
  });

  it("rejects unsupported versions", () => {
    expect(inputError(() => readGgufHeader(write("v1.gguf", buildGguf([], [], { version: 1 })))).message).toMatch(/version 1/);
    expect(inputError(() => readGgufHeader(write("v9.gguf", buildGguf([], [], { version: 9 })))).message).toMatch(/version 9/);
  });

  it("rejects a file truncated inside the header", () => {
    const full = buildGguf(fullKvs(), TENSORS);
    for (const cut of [2, 10, 200, 500_000]) {
      const f = write(`trunc-${cut}.gguf`, full.subarray(0, cut));
      expect(inputError(() => readGgufHeader(f)).message).toMatch(/too short|end of file/);
    }
  });

  it("rejects a file whose tensor data is cut off", () => {
    const full = buildGguf([], TENSORS);
    const f = write("trunc-data.gguf", full.subarray(0, full.length - 100));
    expect(inputError(() => readGgufHeader(f)).message).toMatch(/blk\.0\.attn_q\.weight.*past the end/);
  });

  it("rejects unknown ggml types and rows not divisible by the block size", () => {
    const f1 = write("unk.gguf", buildGguf([], [{ name: "t", dims: [4], type: 99, bytes: 4 }]));
    expect(inputError(() => readGgufHeader(f1)).message).toMatch(/unknown ggml type 99/);
    const f2 = write("blk.gguf", buildGguf([], [{ name: "t", dims: [100, 2], type: G_Q4_K, bytes: 288 }]));
    expect(inputError(() => readGgufHeader(f2)).message).toMatch(/not a multiple of the Q4_K block size 256/);
  });

  it("rejects a missing file", () => {
    expect(inputError(() => readGgufHeader(path.join(dir, "nope.gguf"))).message).toMatch(/not found/);
  });
});
