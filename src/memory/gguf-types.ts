// Average bits per weight of llama.cpp file types, over a whole Llama-class model (token embedding and output
// tensors included). Source: llama.cpp tools/quantize/README.md table and examples/quantize/quantize.cpp
// (e.g. "Q4_K_M : 4.89 bpw" for Llama-3-8B); block formats from ggml/src/ggml-common.h.
const BPW: Readonly<Record<string, number>> = {
  F32: 32,
  F16: 16,
  BF16: 16,
  Q8_0: 8.5, // 34 bytes per 32 weights
  Q6_K: 6.56,
  Q5_K_M: 5.7,
  Q5_K_S: 5.54,
  Q5_0: 5.5,
  Q5_1: 6,
  Q4_K_M: 4.89,
  Q4_K_S: 4.58,
  Q4_0: 4.55, // 18 bytes per 32 weights, plus a Q6_K output tensor
  Q4_1: 5,
  IQ4_XS: 4.46,
  IQ4_NL: 4.5,
  Q3_K_L: 4.27,
  Q3_K_M: 3.91,
  Q3_K_S: 3.5,
  IQ3_M: 3.66,
  IQ3_XXS: 3.21,
  Q2_K: 3.0,
  IQ2_XS: 2.31,
  IQ2_XXS: 2.06,
  IQ1_S: 1.56,
};

export function ggufBitsPerWeight(type: string): number {
  const bpw = BPW[type.toUpperCase()];
  if (bpw === undefined) throw new Error(`unknown GGUF type ${type}`);
  return bpw;
}

export function isGgufType(type: string): boolean {
  return BPW[type.toUpperCase()] !== undefined;
}

export const GGUF_TYPES: readonly string[] = Object.keys(BPW);
