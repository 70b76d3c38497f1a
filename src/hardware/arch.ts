// Architecture facts a learner needs about a card: the sm_XX target its software must be built for, the
// oldest CUDA / PyTorch that runs it, and which low-precision tensor formats it has.
import type { Gpu } from "./gpu.js";

export interface ArchFacts {
  /** "sm_120" */
  readonly sm: string;
  readonly computeCapability: string;
  readonly family: string;
  /** the oldest CUDA toolkit / PyTorch wheels that target it, or null when any current build does */
  readonly minCuda: string | null;
  readonly minTorch: string | null;
  readonly tensorFormats: readonly string[];
  readonly notes: readonly string[];
}

interface Row {
  readonly family: string;
  readonly minCuda: string | null;
  readonly minTorch: string | null;
  readonly formats: readonly string[];
  readonly notes: readonly string[];
}

// Sources: CUDA C Programming Guide, "Compute Capabilities" (formats per capability; FP8 from 8.9, FP4 from
// Blackwell); PyTorch 2.7 release notes (2025-04-23: Blackwell support, pre-built wheels for CUDA 12.8);
// CUDA 11.8 release notes (first toolkit targeting sm_89 and sm_90); CUDA 9.0 release notes (first toolkit for sm_70, Volta); FlashAttention-2 README (Ampere or newer).
const BY_CC: Readonly<Record<string, Row>> = {
  "12.0": { family: "Blackwell (consumer)", minCuda: "12.8", minTorch: "2.7 (cu128 wheels)", formats: ["fp4", "fp8", "bf16", "fp16", "tf32"], notes: ["older PyTorch wheels (cu126 and before) have no sm_120 kernels and fail with 'no kernel image is available'"] },
  "10.0": { family: "Blackwell (datacenter)", minCuda: "12.8", minTorch: "2.7 (cu128 wheels)", formats: ["fp4", "fp8", "bf16", "fp16", "tf32"], notes: [] },
  "9.0": { family: "Hopper", minCuda: "11.8", minTorch: null, formats: ["fp8", "bf16", "fp16", "tf32"], notes: [] },
  "8.9": { family: "Ada Lovelace", minCuda: "11.8", minTorch: null, formats: ["fp8", "bf16", "fp16", "tf32"], notes: [] },
  "8.6": { family: "Ampere (GA10x)", minCuda: "11.1", minTorch: null, formats: ["bf16", "fp16", "tf32"], notes: [] },
  "8.0": { family: "Ampere (GA100)", minCuda: "11.0", minTorch: null, formats: ["bf16", "fp16", "tf32"], notes: [] },
  "7.0": { family: "Volta", minCuda: "9.0", minTorch: null, formats: ["fp16"], notes: ["no bf16 tensor cores: train in fp16", "FlashAttention-2 needs Ampere or newer"] },
  "7.5": { family: "Turing", minCuda: "10.0", minTorch: null, formats: ["fp16"], notes: ["no bf16 tensor cores: train in fp16", "FlashAttention-2 needs Ampere or newer"] },
};

export function archFacts(gpu: Gpu): ArchFacts {
  const cc = gpu.computeCapability;
  const row = BY_CC[cc];
  const sm = `sm_${cc.replace(".", "")}`;
  return {
    sm,
    computeCapability: cc,
    family: row?.family ?? gpu.arch.split(" ")[0] ?? gpu.arch,
    minCuda: row?.minCuda ?? null,
    minTorch: row?.minTorch ?? null,
    tensorFormats: row?.formats ?? [],
    notes: row?.notes ?? [],
  };
}
