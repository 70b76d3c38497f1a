// Reading the worker's safetensors in TypeScript: float16 values decode exactly (IEEE 754 half precision).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readTensor, readTensorBlock, slice2d, tensorNames } from "../../src/runs/tensors.js";

function write(file: string, tensors: Record<string, { dtype: string; shape: number[]; bytes: Buffer }>): void {
  const header: Record<string, unknown> = { __metadata__: { by: "test" } };
  let off = 0;
  for (const [k, t] of Object.entries(tensors)) {
    header[k] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.length] };
    off += t.bytes.length;
  }
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  fs.writeFileSync(file, Buffer.concat([len, h, ...Object.values(tensors).map((t) => t.bytes)]));
}

describe("safetensors reader", () => {
  it("decodes F16 (normal, subnormal, negative), F32 and I32, and slices a 4-D tensor", () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-st-")), "t.safetensors");
    // 1.0 = 0x3c00, 0.5 = 0x3800, -2 = 0xc000, smallest subnormal 2^-24 = 0x0001, 65504 = 0x7bff
    const half = Buffer.alloc(16);
    [0x3c00, 0x3800, 0xc000, 0x0001, 0x7bff, 0, 0x3c00, 0x3555].forEach((v, i) => half.writeUInt16LE(v, 2 * i));
    const f32 = Buffer.alloc(8);
    f32.writeFloatLE(0.25, 0);
    f32.writeFloatLE(-3.5, 4);
    const i32 = Buffer.alloc(4);
    i32.writeInt32LE(-7, 0);
    write(f, { h: { dtype: "F16", shape: [1, 2, 2, 2], bytes: half }, f: { dtype: "F32", shape: [2], bytes: f32 }, i: { dtype: "I32", shape: [1], bytes: i32 } });
    expect(tensorNames(f).sort()).toEqual(["f", "h", "i"]);
    const h = readTensor(f, "h");
    expect(h.shape).toEqual([1, 2, 2, 2]);
    expect([...h.data.subarray(0, 6)]).toEqual([1, 0.5, -2, 2 ** -24, 65504, 0]);
    expect(h.data[7]).toBeCloseTo(1 / 3, 3);
    expect([...slice2d(h, 0, 1).data]).toEqual([...h.data.subarray(4, 8)]);
    expect([...readTensor(f, "f").data]).toEqual([0.25, -3.5]);
    expect([...readTensor(f, "i").data]).toEqual([-7]);
    expect(() => readTensor(f, "nope")).toThrow(/has no tensor nope/);
  });
  it("reads one block t[i, j] of a [layer, head, query, key] tensor from its bytes alone, and refuses indices out of range", () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-st-")), "maps.safetensors");
    // [2, 3, 2, 2] float32 with value = its flat index; a float16 tensor before it shifts the offsets
    const n = 2 * 3 * 2 * 2;
    const data = Buffer.alloc(4 * n);
    for (let i = 0; i < n; i++) data.writeFloatLE(i, 4 * i);
    const pad = Buffer.alloc(6);
    write(f, { first: { dtype: "F16", shape: [3], bytes: pad }, maps: { dtype: "F32", shape: [2, 3, 2, 2], bytes: data } });
    const whole = readTensor(f, "maps");
    for (let l = 0; l < 2; l++) {
      for (let h = 0; h < 3; h++) {
        const b = readTensorBlock(f, "maps", [l, h]);
        expect(b.shape).toEqual([2, 2]);
        expect([...b.data]).toEqual([...slice2d(whole, l, h).data]);
      }
    }
    expect([...readTensorBlock(f, "maps", [1]).data]).toEqual(Array.from({ length: 12 }, (_, i) => 12 + i));
    expect([...readTensorBlock(f, "maps", [1, 2, 1]).data]).toEqual([22, 23]);
    expect(() => readTensorBlock(f, "maps", [2, 0])).toThrow(/index 2 is out of range for dimension 0 \(size 2\)/);
    expect(() => readTensorBlock(f, "maps", [0, 1, 0, 0, 0])).toThrow(/has 4 dimensions, not 5/);
    expect(() => readTensorBlock(f, "__metadata__", [])).toThrow(/has no tensor __metadata__/);
  });
});
