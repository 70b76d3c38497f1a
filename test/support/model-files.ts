// Real model files for tests, written byte for byte in their formats: .safetensors (8-byte LE header length,
// JSON header, data) and GGUF v3 (header, metadata, tensor infos, aligned data). Data is zeros: the planner
// reads headers only.
import fs from "node:fs";
import path from "node:path";

export interface StTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
}

const ST_BITS: Record<string, number> = { F32: 32, F16: 16, BF16: 16, I32: 32, U8: 8, F8_E4M3: 8, I8: 8 };

export function safetensorsBytes(tensors: readonly StTensor[]): Buffer {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const t of tensors) {
    const bytes = (t.shape.reduce((a, b) => a * b, 1) * ST_BITS[t.dtype]!) / 8;
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(off)]);
}

/** A model folder: config.json and model.safetensors. */
export function writeModelFolder(dir: string, config: unknown, tensors: readonly StTensor[]): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
  fs.writeFileSync(path.join(dir, "model.safetensors"), safetensorsBytes(tensors));
  return dir;
}

/** The tensors of a Llama-layout model as transformers names them, in one dtype. */
export function llamaTensors(cfg: { hidden: number; inter: number; layers: number; heads: number; kv: number; vocab: number; tied: boolean }, dtype: string): StTensor[] {
  const d = cfg.hidden / cfg.heads;
  const out: StTensor[] = [{ name: "model.embed_tokens.weight", dtype, shape: [cfg.vocab, cfg.hidden] }];
  for (let i = 0; i < cfg.layers; i++) {
    const p = `model.layers.${i}`;
    out.push(
      { name: `${p}.self_attn.q_proj.weight`, dtype, shape: [cfg.heads * d, cfg.hidden] },
      { name: `${p}.self_attn.k_proj.weight`, dtype, shape: [cfg.kv * d, cfg.hidden] },
      { name: `${p}.self_attn.v_proj.weight`, dtype, shape: [cfg.kv * d, cfg.hidden] },
      { name: `${p}.self_attn.o_proj.weight`, dtype, shape: [cfg.hidden, cfg.heads * d] },
      { name: `${p}.mlp.gate_proj.weight`, dtype, shape: [cfg.inter, cfg.hidden] },
      { name: `${p}.mlp.up_proj.weight`, dtype, shape: [cfg.inter, cfg.hidden] },
      { name: `${p}.mlp.down_proj.weight`, dtype, shape: [cfg.hidden, cfg.inter] },
      { name: `${p}.input_layernorm.weight`, dtype, shape: [cfg.hidden] },
      { name: `${p}.post_attention_layernorm.weight`, dtype, shape: [cfg.hidden] },
    );
  }
  out.push({ name: "model.norm.weight", dtype, shape: [cfg.hidden] });
  if (!cfg.tied) out.push({ name: "lm_head.weight", dtype, shape: [cfg.vocab, cfg.hidden] });
  return out;
}

// ---- GGUF ----
const T_U32 = 4, T_STRING = 8, T_ARRAY = 9;
const GGML: Record<string, [number, number, number]> = { F32: [0, 1, 4], F16: [1, 1, 2], Q8_0: [8, 32, 34] };

class W {
  parts: Buffer[] = [];
  get length(): number { return this.parts.reduce((a, b) => a + b.length, 0); }
  raw(b: Buffer): this { this.parts.push(b); return this; }
  u32(v: number): this { const b = Buffer.alloc(4); b.writeUInt32LE(v); return this.raw(b); }
  u64(v: number): this { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return this.raw(b); }
  str(s: string): this { const b = Buffer.from(s, "utf8"); return this.u64(b.length).raw(b); }
}

export interface GgufTensor {
  readonly name: string;
  /** ggml order: ne0 (the row length) first */
  readonly dims: readonly number[];
  readonly type: "F32" | "F16" | "Q8_0";
}

/** A GGUF v3 file with u32 / string metadata, a token list of `vocab` entries, and zeroed tensor data. */
export function ggufBytes(meta: Record<string, number | string>, vocab: number, tensors: readonly GgufTensor[]): Buffer {
  const align = 32;
  const w = new W();
  const kvs = Object.entries(meta);
  w.raw(Buffer.from("GGUF", "latin1")).u32(3).u64(tensors.length).u64(kvs.length + 1);
  for (const [k, v] of kvs) {
    if (typeof v === "string") w.str(k).u32(T_STRING).str(v);
    else w.str(k).u32(T_U32).u32(v);
  }
  w.str("tokenizer.ggml.tokens").u32(T_ARRAY).u32(T_STRING).u64(vocab);
  for (let i = 0; i < vocab; i++) w.str(`t${i}`);
  let off = 0;
  for (const t of tensors) {
    const [id, blk, size] = GGML[t.type]!;
    const bytes = (t.dims.reduce((a, b) => a * b, 1) / blk) * size;
    w.str(t.name).u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(id).u64(off);
    off += Math.ceil(bytes / align) * align;
  }
  w.raw(Buffer.alloc((align - (w.length % align)) % align));
  w.raw(Buffer.alloc(off));
  return Buffer.concat(w.parts);
}
