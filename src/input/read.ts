// Reading a user's file: one place that turns every way a read can go wrong (missing, a folder, a device,
// too big, not UTF-8, binary) into one line naming the file, and never hands raw bytes downstream.
import fs from "node:fs";
import { FitlabInputError } from "../errors.js";
import { formatLimit, formatSize } from "./limits.js";

/** Why a path cannot be read, in words, from a Node error code. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "does not exist";
    case "EISDIR":
      return "is a folder, not a file";
    case "ENOTDIR":
      return "is not inside a folder (a part of the path is a file)";
    case "EACCES":
    case "EPERM":
      return "cannot be read (permission denied)";
    case "ELOOP":
      return "is a symbolic link loop";
    case "ENAMETOOLONG":
      return "has a name that is too long";
    case "ENOSPC":
      return "cannot be written: no space left on the device";
    case "EROFS":
      return "cannot be written: the file system is read-only";
    default:
      return `cannot be read (${code ?? (e as Error | undefined)?.message ?? "unknown error"})`;
  }
}

/** Stat a path that must be a regular file no larger than `maxBytes`; returns its size. */
export function statInputFile(file: string, what: string, maxBytes: number): number {
  if (file.includes("\0")) throw new FitlabInputError(`${what} path contains a NUL byte`);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new FitlabInputError(`${what} ${file} ${describeFsError(e)}`);
  }
  if (st.isDirectory()) throw new FitlabInputError(`${what} ${file} is a folder, not a file`);
  // a FIFO, socket or device (/dev/zero, /dev/stdin) could block or never end
  if (!st.isFile()) throw new FitlabInputError(`${what} ${file} is not a regular file`);
  if (st.size > maxBytes) throw new FitlabInputError(`${what} ${file} is ${formatSize(st.size)}, above the ${formatLimit(maxBytes)} limit for this kind of file`);
  return st.size;
}

/** 1-based line of a byte offset. */
export function lineOfOffset(buf: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < buf.length; i++) if (buf[i] === 0x0a) line++;
  return line;
}

/** Offset of the first byte that is not valid UTF-8, or -1. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    if (i + need >= n) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Decode bytes as UTF-8 text, refusing invalid sequences and NUL bytes with the line they are on.
 * `label` starts the message ("config.json", "dataset d.jsonl").
 */
export function decodeText(buf: Uint8Array, label: string, firstLine = 1): string {
  const nul = buf.indexOf(0);
  if (nul >= 0) throw new FitlabInputError(`${label} line ${firstLine - 1 + lineOfOffset(buf, nul)}: contains a NUL byte (a binary file, not text)`);
  try {
    return fatalUtf8.decode(buf);
  } catch {
    const at = firstInvalidUtf8(buf);
    const byte = at >= 0 ? buf[at]! : 0;
    throw new FitlabInputError(`${label} line ${firstLine - 1 + lineOfOffset(buf, Math.max(at, 0))}: not UTF-8 text (byte 0x${byte.toString(16).padStart(2, "0")} at offset ${Math.max(at, 0)}); save it as UTF-8`);
  }
}

/** Read a whole text file under a size limit: checked to be a regular file, UTF-8, free of NUL bytes. */
export function readTextFile(file: string, what: string, maxBytes: number): string {
  statInputFile(file, what, maxBytes);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new FitlabInputError(`${what} ${file} ${describeFsError(e)}`);
  }
  return decodeText(buf, `${what} ${file}`);
}
