import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FitlabInputError } from "../../src/errors.js";
import { readSafetensorsHeader, readSafetensorsModel } from "../../src/spec/safetensors.js";
import { inputError } from "../helpers.js";

interface T { name: string; dtype: string; shape: number[]; bytes: number }

/** Build a real .safetensors file: 8-byte LE header length, space-padded JSON header, zeroed data. */
function build(tensors: T[], metadata?: Record<string, string>, opts: { dataBytes?: number } = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes] };
    off += t.bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += " ";
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, Buffer.from(json, "utf8"), Buffer.alloc(opts.dataBytes ?? off)]);
}

function rawFile(headerText: string, declaredLen?: number, data = 0): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(declaredLen ?? Buffer.byteLength(headerText)));
  return Buffer.concat([len, Buffer.from(headerText, "utf8"), Buffer.alloc(data)]);
}

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-st-")); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function write(rel: string, buf: Buffer): string {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, buf);
  return p;
}


const MIXED: T[] = [
  { name: "model.embed_tokens.weight", dtype: "BF16", shape: [4, 8], bytes: 64 }, // 32 params
  { name: "model.norm.weight", dtype: "F32", shape: [3], bytes: 12 }, // 3 params
  { name: "model.layers.0.mlp.down_proj.weight", dtype: "U8", shape: [16, 2], bytes: 32 }, // 4-bit packed in U8
  { name: "model.layers.0.mlp.down_proj.absmax", dtype: "F32", shape: [], bytes: 4 }, // scalar
];

describe("readSafetensorsHeader", () => {
  it("sums bytes from data_offsets and params from shapes, per dtype", () => {
    const f = write("single/model.safetensors", build(MIXED, { format: "pt" }));
    const s = readSafetensorsHeader(f);
    expect(s.files).toEqual([f]);
    expect(s.tensors).toBe(4);
    expect(s.totalBytes).toBe(64 + 12 + 32 + 4);
    expect(s.totalParams).toBe(32 + 3 + 32 + 1);
    expect(s.bytesByDtype).toEqual({ BF16: 64, F32: 16, U8: 32 });
    expect(s.paramsByDtype).toEqual({ BF16: 32, F32: 4, U8: 32 });
    expect(s.metadata).toEqual({ format: "pt" });
  });

  it("handles sub-byte dtypes (F4) and empty tensors", () => {
    const f = write("f4.safetensors", build([
      { name: "w", dtype: "F4", shape: [2, 3], bytes: 3 },
      { name: "scales", dtype: "F8_E8M0", shape: [2], bytes: 2 },
      { name: "empty", dtype: "F16", shape: [0, 5], bytes: 0 },
    ]));
    const s = readSafetensorsHeader(f);
    expect(s.totalBytes).toBe(5);
    expect(s.totalParams).toBe(8);
    expect(s.bytesByDtype).toEqual({ F4: 3, F8_E8M0: 2, F16: 0 });
    expect(s.metadata).toEqual({});
  });

  it("never reads tensor data (4 GiB sparse file)", () => {
    const big = build([{ name: "huge", dtype: "F32", shape: [1 << 30], bytes: 4 * 2 ** 30 }], undefined, { dataBytes: 0 });
    const f = write("huge.safetensors", big);
    fs.truncateSync(f, big.length + 4 * 2 ** 30);
    const s = readSafetensorsHeader(f);
    expect(s.totalBytes).toBe(4 * 2 ** 30);
    expect(s.totalParams).toBe(2 ** 30);
  });

  it("rejects a file shorter than 8 bytes", () => {
    const f = write("short.safetensors", Buffer.from([1, 2, 3]));
    const e = inputError(() => readSafetensorsHeader(f));
    expect(e.message).toContain(f);
    expect(e.message).toMatch(/too short/);
  });

  it("rejects an absurd header length", () => {
    const f = write("absurd.safetensors", rawFile("{}", 200 * 1024 * 1024));
    expect(inputError(() => readSafetensorsHeader(f)).message).toMatch(/absurd/);
  });

  it("rejects a header that runs past the end of the file (truncated)", () => {
    const full = build(MIXED);
    const f = write("trunc-header.safetensors", full.subarray(0, 40));
    expect(inputError(() => readSafetensorsHeader(f)).message).toMatch(/past the end of the file/);
  });

  it("rejects tensor data cut off (truncated data)", () => {
    const full = build(MIXED);
    const f = write("trunc-data.safetensors", full.subarray(0, full.length - 10));
    expect(inputError(() => readSafetensorsHeader(f)).message).toMatch(/past the data section/);
  });

  it("rejects invalid JSON", () => {
    const f = write("badjson.safetensors", rawFile('{"a": {"dtype": "F32",', undefined, 8));
    const e = inputError(() => readSafetensorsHeader(f));
    expect(e.message).toContain(f);
    expect(e.message).toMatch(/not valid JSON/);
  });

  it("rejects unknown dtypes", () => {
    const f = write("dtype.safetensors", rawFile(JSON.stringify({ a: { dtype: "Q4", shape: [2], data_offsets: [0, 1] } }), undefined, 1));
    expect(inputError(() => readSafetensorsHeader(f)).message).toMatch(/unknown dtype "Q4"/);
  });

  it("rejects data_offsets inconsistent with shape x element size", () => {
    const f = write("mismatch.safetensors", rawFile(JSON.stringify({ a: { dtype: "BF16", shape: [4, 4], data_offsets: [0, 16] } }), undefined, 16));
    expect(inputError(() => readSafetensorsHeader(f)).message).toMatch(/span 16 bytes .* needs 32/);
  });

  it("rejects a missing file", () => {
    expect(inputError(() => readSafetensorsHeader(path.join(dir, "nope.safetensors"))).message).toMatch(/not found/);
  });
});

describe("readSafetensorsModel", () => {
  it("accepts a single file or a folder with model.safetensors", () => {
    const f = write("folder/model.safetensors", build(MIXED));
    expect(readSafetensorsModel(f).totalBytes).toBe(112);
    const s = readSafetensorsModel(path.join(dir, "folder"));
    expect(s.files).toEqual([f]);
    expect(s.totalParams).toBe(68);
  });

  it("reads a sharded folder through model.safetensors.index.json", () => {
    const shardA: T[] = [
      { name: "embed.weight", dtype: "BF16", shape: [10, 4], bytes: 80 },
      { name: "layers.0.q.weight", dtype: "BF16", shape: [4, 4], bytes: 32 },
    ];
    const shardB: T[] = [
      { name: "layers.0.k.weight", dtype: "F32", shape: [4, 2], bytes: 32 },
      { name: "layers.0.packed", dtype: "U8", shape: [8], bytes: 8 },
      { name: "lm_head.weight", dtype: "BF16", shape: [10, 4], bytes: 80 },
    ];
    const a = write("sharded/model-00001-of-00002.safetensors", build(shardA, { format: "pt" }));
    const b = write("sharded/model-00002-of-00002.safetensors", build(shardB, { format: "pt" }));
    const weight_map: Record<string, string> = {};
    for (const t of shardA) weight_map[t.name] = "model-00001-of-00002.safetensors";
    for (const t of shardB) weight_map[t.name] = "model-00002-of-00002.safetensors";
    write("sharded/model.safetensors.index.json", Buffer.from(JSON.stringify({ metadata: { total_size: 232 }, weight_map })));
    const s = readSafetensorsModel(path.join(dir, "sharded"));
    expect(s.files).toEqual([a, b]);
    expect(s.tensors).toBe(5);
    expect(s.totalBytes).toBe(80 + 32 + 32 + 8 + 80);
    expect(s.totalParams).toBe(40 + 16 + 8 + 8 + 40);
    expect(s.bytesByDtype).toEqual({ BF16: 192, F32: 32, U8: 8 });
    expect(s.paramsByDtype).toEqual({ BF16: 96, F32: 8, U8: 8 });
    expect(s.metadata).toEqual({ total_size: "232", format: "pt" });
  });

  it("rejects a missing shard", () => {
    write("missing/model-00001-of-00002.safetensors", build(MIXED));
    const weight_map: Record<string, string> = {};
    for (const t of MIXED) weight_map[t.name] = "model-00001-of-00002.safetensors";
    weight_map["lm_head.weight"] = "model-00002-of-00002.safetensors";
    write("missing/model.safetensors.index.json", Buffer.from(JSON.stringify({ weight_map })));
    const e = inputError(() => readSafetensorsModel(path.join(dir, "missing")));
    expect(e.message).toMatch(/model-00002-of-00002\.safetensors/);
    expect(e.message).toMatch(/missing/);
  });

  it("rejects an index naming a tensor its shard lacks", () => {
    write("liar/model-00001-of-00001.safetensors", build(MIXED));
    const weight_map: Record<string, string> = { ghost: "model-00001-of-00001.safetensors" };
    write("liar/model.safetensors.index.json", Buffer.from(JSON.stringify({ weight_map })));
    expect(inputError(() => readSafetensorsModel(path.join(dir, "liar"))).message).toMatch(/"ghost"/);
  });

  it("rejects a bad index and an empty folder", () => {
    write("badindex/model.safetensors.index.json", Buffer.from("{ nope"));
    expect(inputError(() => readSafetensorsModel(path.join(dir, "badindex"))).message).toMatch(/not valid JSON/);
    fs.mkdirSync(path.join(dir, "empty"));
    expect(inputError(() => readSafetensorsModel(path.join(dir, "empty"))).message).toMatch(/neither/);
    expect(inputError(() => readSafetensorsModel(path.join(dir, "does-not-exist"))).message).toMatch(/no such/);
  });
});
