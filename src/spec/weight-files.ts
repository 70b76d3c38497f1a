// Which weight files a model folder holds, and the one rule about them: pickled weights (PyTorch .bin,
// .pt, .pth, .ckpt, .pkl) are never read, because unpickling runs code. A folder with only pickles, or a
// pickle given as a model, is refused with the fix (convert to safetensors).
import fs from "node:fs";
import path from "node:path";
import { FitlabInputError } from "../errors.js";

const PICKLE_EXT = /\.(bin|pt|pth|ckpt|pkl|pickle)$/i;
const PICKLE_INDEX = /^pytorch_model.*\.bin\.index\.json$/i;

export interface WeightFiles {
  readonly safetensors: readonly string[];
  readonly safetensorsIndex: boolean;
  readonly pickles: readonly string[];
  readonly gguf: readonly string[];
}

export function weightFiles(dir: string): WeightFiles {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    names = [];
  }
  return {
    safetensors: names.filter((n) => n.endsWith(".safetensors")),
    safetensorsIndex: names.includes("model.safetensors.index.json"),
    pickles: names.filter((n) => PICKLE_EXT.test(n) || PICKLE_INDEX.test(n)),
    gguf: names.filter((n) => n.toLowerCase().endsWith(".gguf")),
  };
}

/** True when a folder has safetensors weights to read. Refuses a folder whose only weights are pickles. */
export function requireSafeWeights(dir: string): boolean {
  const w = weightFiles(dir);
  if (w.safetensors.length > 0 || w.safetensorsIndex) return true;
  if (w.pickles.length > 0) {
    throw new FitlabInputError(`model folder ${dir} holds only pickled weights (${w.pickles.slice(0, 2).join(", ")}): fitlab never loads pickles, which can run code; convert them to safetensors first`);
  }
  return false;
}

/** A file that is a pickle (by name, or by its first bytes: pickle protocol 2-5, or a PyTorch zip). */
export function isPickleFile(file: string): boolean {
  if (PICKLE_EXT.test(file)) return true;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    const b = Buffer.alloc(4);
    const n = fs.readSync(fd, b, 0, 4, 0);
    if (n >= 2 && b[0] === 0x80 && b[1]! >= 2 && b[1]! <= 5) return true;
    return n === 4 && b.toString("latin1") === "PK\u0003\u0004" && path.extname(file).toLowerCase() !== ".json";
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Refuse a single file given where a config.json or model folder was expected, when it holds weights. */
export function refuseWeightFile(file: string): void {
  if (isPickleFile(file)) throw new FitlabInputError(`${file} is a pickled weights file: fitlab never loads pickles, which can run code; give the model folder (config.json + .safetensors)`);
  if (file.toLowerCase().endsWith(".safetensors")) throw new FitlabInputError(`${file} holds weights, not the architecture: give its folder (config.json + .safetensors) or its config.json`);
}
