// Read tensors the worker wrote (safetensors: 8-byte little-endian header length, JSON header, raw data)
// into Float32Arrays. F16, BF16, F32 and I32 are the dtypes the inspection jobs write.
import fs from "node:fs";
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

export function readTensor(file: string, name: string): Tensor {
  const { header, start, fd } = readHeader(file);
  try {
    const t = header[name];
    if (!t) throw new FitlabInputError(`${file} has no tensor ${name}`);
    const [a, b] = t.data_offsets;
    const raw = Buffer.alloc(b - a);
    fs.readSync(fd, raw, 0, b - a, start + a);
    const count = t.shape.reduce((x, y) => x * y, 1);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      switch (t.dtype) {
        case "F16":
          out[i] = f16(raw.readUInt16LE(2 * i));
          break;
        case "BF16":
          out[i] = new Float32Array(new Uint32Array([raw.readUInt16LE(2 * i) << 16]).buffer)[0]!;
          break;
        case "F32":
          out[i] = raw.readFloatLE(4 * i);
          break;
        case "I32":
          out[i] = raw.readInt32LE(4 * i);
          break;
        default:
          throw new FitlabInputError(`${file}: tensor ${name} has dtype ${t.dtype}, which fitlab does not read`);
      }
    }
    return { shape: t.shape, data: out };
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
