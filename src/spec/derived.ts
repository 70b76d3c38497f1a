// Hub uploads named after a built-in model plus a variant suffix keep that model's architecture: the official
// pre-quantized releases (Qwen "-GPTQ-Int4", "-GPTQ-Int8", "-AWQ", "-FP8"; Unsloth "-bnb-4bit"; TheBloke
// "-GPTQ"/"-AWQ"; RedHat "-quantized.w4a16", "-FP8-dynamic") and instruction-tuned twins ("-Instruct", "-Chat",
// "-it"). Before `fitlab models ID` has fetched the real config.json (offline, or in `validate` without the
// hub), such an id is planned from the built-in config with the stored format its name declares, and the
// estimate says so. A fetched config.json (with its real quantization_config) always wins.
import type { PreQuantized, StoredQuant } from "./types.js";

interface Variant {
  readonly suffix: RegExp;
  /** the stored format the suffix declares; null: the same floating-point weights (a twin) */
  readonly quant: { readonly storedQuant: StoredQuant; readonly preQuantized: PreQuantized } | null;
}

const pq = (method: string, bits: number, groupSize: number, weightBlock: readonly [number, number] | null = null): PreQuantized => ({ method, bits, groupSize, weightBlock, descAct: false });

/** Suffixes, tried at the end of the name part and stripped one at a time ("Qwen2.5-7B-Instruct-GPTQ-Int4"
 *  -> "Qwen2.5-7B-Instruct" -> "Qwen2.5-7B"). Group sizes are those of the releases that carry the suffix:
 *  Qwen's GPTQ/AWQ uploads and TheBloke's default branch use group_size 128 (their quantization_config /
 *  quantize_config.json); Qwen's "-FP8" uploads are block-wise 128x128 (weight_block_size); llm-compressor's
 *  "-FP8-dynamic" is per channel; Unsloth's "-bnb-4bit" is NF4 with double quantization. */
const VARIANTS: readonly Variant[] = [
  { suffix: /-gptq-int4$/i, quant: { storedQuant: "gptq-int4", preQuantized: pq("gptq", 4, 128) } },
  { suffix: /-gptq-int8$/i, quant: { storedQuant: "gptq-int8", preQuantized: pq("gptq", 8, 128) } },
  { suffix: /-gptq$/i, quant: { storedQuant: "gptq-int4", preQuantized: pq("gptq", 4, 128) } },
  { suffix: /-awq$/i, quant: { storedQuant: "awq-int4", preQuantized: pq("awq", 4, 128) } },
  { suffix: /-quantized\.w4a16$/i, quant: { storedQuant: "gptq-int4", preQuantized: pq("compressed-tensors", 4, 128) } },
  { suffix: /-fp8-dynamic$/i, quant: { storedQuant: "fp8", preQuantized: pq("compressed-tensors", 8, -1) } },
  { suffix: /-fp8$/i, quant: { storedQuant: "fp8", preQuantized: pq("fp8", 8, 0, [128, 128]) } },
  { suffix: /-(unsloth-)?bnb-4bit$/i, quant: { storedQuant: "bnb-nf4-dq", preQuantized: pq("bitsandbytes", 4, 64) } },
  { suffix: /-(instruct|chat|it|hf)$/i, quant: null },
];

export interface DerivedName {
  /** the name left once the variant suffixes are stripped (owner kept) */
  readonly baseName: string;
  /** the stored format declared by the suffixes, or null (a twin in floating point) */
  readonly quant: Variant["quant"];
  /** the suffixes stripped, in the order they were found (last first) */
  readonly stripped: readonly string[];
}

/** Every name a variant id may come from, longest first: "o/A-Instruct-AWQ" -> ["o/A-Instruct" (awq), "o/A"
 *  (awq)]. The caller takes the first that is built in. Empty when no suffix is recognised. */
export function derivedNames(id: string): readonly DerivedName[] {
  const out: DerivedName[] = [];
  let name = id.trim();
  let quant: Variant["quant"] = null;
  const stripped: string[] = [];
  for (let guard = 0; guard < 4; guard++) {
    const v = VARIANTS.find((x) => x.suffix.test(name));
    if (!v) break;
    const m = name.match(v.suffix)!;
    name = name.slice(0, name.length - m[0].length);
    if (!name || name.endsWith("/")) break;
    // the first quantized suffix found (the outermost) is the stored format
    quant ??= v.quant;
    stripped.push(m[0]);
    out.push({ baseName: name, quant, stripped: [...stripped] });
  }
  return out;
}
