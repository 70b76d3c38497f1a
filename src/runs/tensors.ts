// Read tensors the worker wrote (safetensors: 8-byte little-endian header length, JSON header, raw data)
// into Float32Arrays. F16, BF16, F32 and I32 are the dtypes the inspection jobs write.
import fs from "node:fs";
import os from "node:os";
import { FitlabInputError } from "../errors.js";

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;

function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function tensorNames(file: string): string[] {
  return Object.keys(readHeader(file).header).filter((k) => k !== "__metadata__");
}

function readHeader(file: string): { header: Header; start: number; fd: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    throw new FitlabInputError(`tensor file ${file} does not exist`);
  }
  const len = Buffer.alloc(8);
  fs.readSync(fd, len, 0, 8, 0);
  const n = Number(len.readBigUInt64LE(0));
  const buf = Buffer.alloc(n);
  fs.readSync(fd, buf, 0, n, 8);
  return { header: JSON.parse(buf.toString("utf8")) as Header, start: 8 + n, fd };
}

let HALF: Float32Array | null = null;
const LITTLE_ENDIAN = os.endianness() === "LE";

const BYTES: Record<string, number> = { F16: 2, BF16: 2, F32: 4, I32: 4 };

function decode(file: string, name: string, dtype: string, raw: Buffer, count: number): Float32Array {
  const out = new Float32Array(count);
  switch (dtype) {
    case "F16": {
      // every half has one float value: a 65,536-entry table decodes a 2,048 x 2,048 map in milliseconds
      const table = (HALF ??= Float32Array.from({ length: 65536 }, (_, h) => f16(h)));
      if (LITTLE_ENDIAN && raw.byteOffset % 2 === 0) {
        const u16 = new Uint16Array(raw.buffer, raw.byteOffset, count);
        for (let i = 0; i < count; i++) out[i] = table[u16[i]!]!;
      } else for (let i = 0; i < count; i++) out[i] = table[raw.readUInt16LE(2 * i)]!;
      break;
    }
    case "BF16": {
      const u = new Uint32Array(1);
      const f = new Float32Array(u.buffer);
      for (let i = 0; i < count; i++) {
        u[0] = raw.readUInt16LE(2 * i) << 16;
        out[i] = f[0]!;
      }
      break;
    }
    case "F32":
      for (let i = 0; i < count; i++) out[i] = raw.readFloatLE(4 * i);
      break;
    case "I32":
      for (let i = 0; i < count; i++) out[i] = raw.readInt32LE(4 * i);
      break;
    default:
      throw new FitlabInputError(`${file}: tensor ${name} has dtype ${dtype}, which fitlab does not read`);
  }
  return out;
}

export function readTensor(file: string, name: string): Tensor {
  return readTensorBlock(file, name, []);
}

/**
 * The block t[i0, i1, ...] of a tensor (the leading indices given; the rest whole), reading only its bytes:
 * one head's map [query, key] out of a [layer, head, query, key] file without decoding the others.
 */
export function readTensorBlock(file: string, name: string, index: readonly number[]): Tensor {
  const { header, start, fd } = readHeader(file);
  try {
    const t = header[name];
    if (!t || name === "__metadata__") throw new FitlabInputError(`${file} has no tensor ${name}`);
    const size = BYTES[t.dtype];
    if (size === undefined) throw new FitlabInputError(`${file}: tensor ${name} has dtype ${t.dtype}, which fitlab does not read`);
    if (index.length > t.shape.length) throw new FitlabInputError(`${file}: tensor ${name} has ${t.shape.length} dimensions, not ${index.length}`);
    const rest = t.shape.slice(index.length);
    const count = rest.reduce((x, y) => x * y, 1);
    // row-major: the block's first element is sum(index[k] * stride[k])
    let first = 0;
    for (let k = 0; k < index.length; k++) {
      const i = index[k]!;
      if (!Number.isInteger(i) || i < 0 || i >= t.shape[k]!) throw new FitlabInputError(`${file}: index ${i} is out of range for dimension ${k} (size ${t.shape[k]}) of ${name}`);
      first = first * t.shape[k]! + i;
    }
    const [a, b] = t.data_offsets;
    const from = a + first * count * size;
    if (b - a !== t.shape.reduce((x, y) => x * y, 1) * size) throw new FitlabInputError(`${file}: tensor ${name} holds ${b - a} bytes, not what its shape says`);
    const raw = Buffer.alloc(count * size);
    fs.readSync(fd, raw, 0, count * size, start + from);
    return { shape: rest, data: decode(file, name, t.dtype, raw, count) };
  } finally {
    fs.closeSync(fd);
  }
}

/** The 2-D slice [i, j, :, :] of a 4-D tensor (a head's map in [layer, head, query, key]). */
export function slice2d(t: Tensor, i: number, j: number): { rows: number; cols: number; data: Float32Array } {
  const [, b, r, c] = t.shape as [number, number, number, number];
  const off = (i * b + j) * r * c;
  return { rows: r, cols: c, data: t.data.subarray(off, off + r * c) };
}
