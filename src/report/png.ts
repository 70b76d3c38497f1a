// Heat maps as images: a matrix of values coloured by a Plot colour scale, encoded as a PNG data URI for
// Plot's image mark. A 128 x 128 attention map is one image instead of 16,384 SVG rectangles. PNG format:
// signature, IHDR, IDAT (zlib-deflated scanlines, filter 0), IEND; each chunk with a CRC-32 (RFC 2083).
import { deflateSync } from "node:zlib";
import { Plot } from "./plot.js";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** RGB pixels (row-major, 3 bytes each) to a PNG. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  const raw = Buffer.alloc(height * (1 + 3 * width));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + 3 * width)] = 0;
    Buffer.from(rgb.buffer, rgb.byteOffset + y * 3 * width, 3 * width).copy(raw, y * (1 + 3 * width) + 1);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

export interface ColorScaleOptions {
  readonly scheme: Plot.ColorScheme;
  readonly domain: readonly [number, number];
  readonly type?: "linear" | "sqrt" | "log" | "symlog";
}

/** value -> [r, g, b] through Plot's colour scale (the same colours its cell marks would use). */
export function colorizer(o: ColorScaleOptions): (v: number) => [number, number, number] {
  const scale = Plot.scale({ color: { type: o.type ?? "linear", scheme: o.scheme, domain: [...o.domain] } });
  const cache = new Map<number, [number, number, number]>();
  return (v: number) => {
    const key = Math.round(Math.max(0, Math.min(1, (v - o.domain[0]) / (o.domain[1] - o.domain[0] || 1))) * 255);
    let c = cache.get(key);
    if (!c) {
      const s = String(scale.apply(o.domain[0] + (key / 255) * (o.domain[1] - o.domain[0])));
      c = parseColor(s);
      cache.set(key, c);
    }
    return c;
  };
}

function parseColor(s: string): [number, number, number] {
  const hex = /^#([0-9a-f]{6})$/i.exec(s);
  if (hex) {
    const n = parseInt(hex[1]!, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const rgb = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(s);
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  return [0, 0, 0];
}

/** A rows x cols matrix as a PNG data URI, coloured by `color`. */
export function matrixPng(rows: number, cols: number, data: ArrayLike<number>, color: (v: number) => [number, number, number]): string {
  const rgb = new Uint8Array(rows * cols * 3);
  for (let i = 0; i < rows * cols; i++) {
    const [r, g, b] = color(data[i]!);
    rgb[3 * i] = r;
    rgb[3 * i + 1] = g;
    rgb[3 * i + 2] = b;
  }
  return `data:image/png;base64,${encodePng(cols, rows, rgb).toString("base64")}`;
}

/** Block-mean downsampling of a rows x cols matrix to at most `size` a side. */
export function downsample(rows: number, cols: number, data: ArrayLike<number>, size: number): { rows: number; cols: number; data: Float32Array } {
  const r2 = Math.min(rows, size);
  const c2 = Math.min(cols, size);
  const out = new Float32Array(r2 * c2);
  const cnt = new Float32Array(r2 * c2);
  for (let i = 0; i < rows; i++) {
    const bi = Math.floor((i * r2) / rows);
    for (let j = 0; j < cols; j++) {
      const bj = Math.floor((j * c2) / cols);
      out[bi * c2 + bj]! += data[i * cols + j]!;
      cnt[bi * c2 + bj]! += 1;
    }
  }
  for (let k = 0; k < out.length; k++) out[k] = out[k]! / cnt[k]!;
  return { rows: r2, cols: c2, data: out };
}
