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
  // further llama.cpp file types (tools/quantize/quantize.cpp QUANT_OPTIONS descriptions)
  Q2_K_S: 2.96,
  IQ3_XS: 3.3,
  IQ3_S: 3.44,
  IQ2_S: 2.5,
  IQ2_M: 2.7,
  IQ1_M: 1.75,
  TQ1_0: 1.69,
  TQ2_0: 2.06,
};

/** llama_ftype (general.file_type) -> file type name (llama.cpp include/llama.h enum llama_ftype). */
export const GGUF_FILE_TYPES: Readonly<Record<number, string>> = {
  0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M",
  13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS",
  21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
  29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
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
