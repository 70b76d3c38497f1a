// The calibrated numbers, and only those. Each parameter names the mechanism it stands for, its scope (one
// value for every PyTorch stack, or one per kernel family) and a prior: the value used where no measured row
// of its scope is available (e.g. while its only source is held out in cross-validation). The fitted values
// live in data/calibration.yaml, written by `npm run calibrate` (src/validate/fit.ts) from the published cases;
// `fitlab validate --cv source` refits them without the rows of the source it scores.
import { z } from "zod";
import { loadYamlData } from "../input/data-file.js";
import { LIMITS } from "../input/limits.js";
import { shownString } from "../input/shown.js";
import { KERNEL_FAMILIES, type EngineProfile, type KernelFamily } from "./profile.js";

export interface CalibratedParam {
  readonly key: string;
  /** "global": one value for every PyTorch-based stack; "kernels": one value per kernel family */
  readonly scope: "global" | "kernels";
  readonly prior: number;
  readonly min: number;
  readonly max: number;
  readonly why: string;
  /** kernels scope only: whether a PyTorch-based family without rows of its own takes the value fitted over
   *  all PyTorch-based families' rows. True where the families run the same kernels (cuBLAS GEMMs and
   *  FlashAttention/SDPA in training and prefill); false where each runtime has its own (decode: vLLM's paged
   *  attention and CUDA graphs vs transformers' eager loop), which keep their mechanism priors. */
  readonly pooled?: boolean;
  /** kernels scope only: a host-side number (the runtime's own loop), never borrowed from a sibling runtime */
  readonly host?: boolean;
}

export const CALIBRATED_PARAMS: readonly CalibratedParam[] = [
  // priors: the low end of the "+0.1 to 3 GiB" that shared/data/CASES.md documents for reserved minus allocated,
  // and a tenth of the transient buffers for block rounding/splitting; nothing for variable-length piles
  { key: "reserved_fixed_gib", scope: "global", prior: 0.25, min: 0, max: 1.5, why: "PyTorch caching allocator: blocks kept beyond live tensors (c10/cuda/CUDACachingAllocator.cpp rounds and caches segments)" },
  { key: "reserved_transient_fraction", scope: "global", prior: 0.1, min: 0, max: 0.6, why: "caching allocator: block splitting and rounding on the transient (activation, logits) buffers" },
  { key: "reserved_unpacked_fraction", scope: "global", prior: 0, min: 0, max: 1.5, why: "caching allocator: with variable-length batches the logits buffers change size every step, cached blocks of earlier sizes pile up" },
  { key: "train_efficiency", scope: "kernels", pooled: true, prior: 0.45, min: 0.1, max: 0.9, why: "achieved / peak dense BF16 FLOP/s of a training step (model FLOPs incl. recompute) for the kernel family" },
  { key: "quant_train_penalty", scope: "global", prior: 1.15, min: 1, max: 2, why: "4-bit bases dequantize every weight on every matmul, forward and backward (bitsandbytes dequantize_4bit + GEMM)" },
  { key: "prefill_efficiency", scope: "kernels", pooled: true, prior: 0.55, min: 0.1, max: 0.9, why: "achieved / peak dense BF16 FLOP/s of a prefill forward pass" },
  { key: "decode_bw_efficiency", scope: "kernels", prior: 0.75, min: 0.3, max: 1, why: "achieved / peak memory bandwidth of the decode GEMV kernels reading the weights" },
  { key: "decode_attn_bw_efficiency", scope: "kernels", prior: 0.3, min: 0.03, max: 1, why: "achieved / peak memory bandwidth of the decode attention kernels reading the KV cache (q_len = 1: few programs per layer)" },
  { key: "quant_decode_bw_factor", scope: "global", prior: 0.65, min: 0.3, max: 1, why: "dequantizing 4-bit GEMV kernels (exllama, Marlin, llama.cpp k-quants) stream below full bandwidth" },
  // NCCL's achieved bus bandwidth over the nominal link (src/hardware/interconnect.ts): ~0.75 on NVLink
  // (nccl-tests all_gather busbw ~230 of 300 GB/s on A100 SXM); PCIe is lower (protocol overhead, and through
  // host memory where GeForce cards have no peer-to-peer)
  { key: "link_efficiency_nvlink", scope: "global", prior: 0.75, min: 0.05, max: 1, why: "NCCL collectives: achieved / nominal NVLink bandwidth per GPU" },
  { key: "link_efficiency_pcie", scope: "global", prior: 0.5, min: 0.02, max: 1, why: "NCCL collectives and host copies over PCIe: achieved / nominal bandwidth" },
  { key: "decode_step_host_ms", scope: "kernels", host: true, prior: 0, min: 0, max: 10, why: "host time per decode step outside the layers: the serving loop's scheduling, sampling and output handling (vLLM/SGLang scheduler and detokenizer, once per step)" },
  // Triton's Python launcher binds arguments and looks up the compiled kernel on every call: tens of
  // microseconds per launch, two launches per FP8 linear (activation quantization + GEMM)
  { key: "triton_linear_host_ms", scope: "kernels", host: true, prior: 0.08, min: 0, max: 0.5, why: "host time per Triton-kernel linear call (transformers fine-grained FP8, GPTQModel TritonV2)" },
  { key: "decode_host_ms_per_layer", scope: "kernels", host: true, prior: 0.6, min: 0, max: 2, why: "host time per decoder layer per generated token: Python dispatch and kernel launches (PyTorch eager: ~60 dispatched ops per decoder layer at ~10 us each), near zero under CUDA graphs" },
];

export const PRIOR_BY_KERNELS: Readonly<Partial<Record<KernelFamily, Readonly<Record<string, number>>>>> = {
  // CUDA graphs replay the whole decode step: no per-layer Python dispatch (vllm/worker/model_runner.py)
  // their Python scheduler prepares each step's batch metadata, samples and hands the tokens to the detokenizer
  // process: ~1-2 ms per step at batch 1 (vLLM's profiling of V0, the motivation for its V1 engine)
  vllm: { decode_host_ms_per_layer: 0.02, decode_step_host_ms: 1.5 },
  sglang: { decode_host_ms_per_layer: 0.02, decode_step_host_ms: 1.5 },
  // ggml builds the graph once per token in C++ and launches its kernels back to back
  "llama.cpp": { decode_host_ms_per_layer: 0.02 },
  // a fused AutoAWQ decoder layer dispatches about a dozen kernels (norm, QKV GEMV, fused rotary + attention,
  // O GEMV, residual, norm, gate/up GEMVs, activation, down GEMV, residual) instead of PyTorch's ~60 ops at
  // ~10 us each; its benchmark loop calls forward directly, without generate()'s per-step processing
  autoawq: { decode_host_ms_per_layer: 0.12, decode_step_host_ms: 0 },
};

/** Serving runtimes built the same way: a Python scheduler replaying CUDA graphs of the decode step over paged
 *  KV-cache attention (FlashAttention / FlashInfer) and the same quantized GEMMs (SGLang 0.4 imports vLLM's
 *  Marlin, AWQ and FP8 kernels: python/sglang/srt/layers/quantization). One without measured rows of its own
 *  takes the other's fitted kernel efficiencies before the mechanism priors; host times stay its own. */
const SERVING_SIBLING: Readonly<Partial<Record<KernelFamily, KernelFamily>>> = { vllm: "sglang", sglang: "vllm" };

export interface Calibration {
  readonly global: Readonly<Record<string, number>>;
  readonly kernels: Readonly<Partial<Record<KernelFamily, Readonly<Record<string, number>>>>>;
  /** half-width of the estimate band as a fraction (memory), holding >= 80 % of cross-validated cases */
  readonly bandMemory: number;
  /** the cross-validated memory cases, and for those measured above their estimate, measured / estimate - 1
   *  (sorted): how often a real peak exceeded the estimate by a given share (the risk of a tight fit) */
  readonly heldOut: { readonly cases: number; readonly above: readonly number[] } | null;
  /** where it came from (file, cases, date) */
  readonly source: string;
  /** what the fitted cases cover: outside it the band widens */
  readonly covered: Coverage | null;
}

export interface Coverage {
  readonly engines: readonly string[];
  readonly parallel: readonly string[];
  readonly moe: boolean;
  readonly maxSeq: number;
  /** the GPUs each kernel family's measured decode speeds ran on (null: the file does not say) */
  readonly decodeGpus: Readonly<Partial<Record<KernelFamily, readonly string[]>>> | null;
}

const fileSchema = z
  .object({
    source: z.string(),
    global: z.record(z.string(), z.number()),
    kernels: z.partialRecord(z.enum(KERNEL_FAMILIES), z.record(z.string(), z.number())),
    band: z.object({ memory: z.number().positive().max(1), held_out: z.object({ cases: z.number().int().positive(), above: z.array(z.number().nonnegative()) }).strict().optional() }).strict(),
    covered: z.object({ engines: z.array(z.string()), parallel: z.array(z.string()), moe: z.boolean(), max_seq: z.number().int().positive(), decode_gpus: z.partialRecord(z.enum(KERNEL_FAMILIES), z.array(z.string())).optional() }).strict().optional(),
  })
  .strict();

const FILE = new URL("../../data/calibration.yaml", import.meta.url);

export const PRIOR_CALIBRATION: Calibration = Object.freeze({ global: {}, kernels: {}, bandMemory: 0.15, heldOut: null, source: "priors only", covered: null });

let loaded: Calibration | null = null;
let active: Calibration | null = null;

export function loadCalibration(path: string | URL = FILE): Calibration {
  // every value names a calibrated parameter of its scope and lies in that parameter's range
  const parsed = loadYamlData(path, "calibration", LIMITS.dataFileBytes, fileSchema, (f) => {
    const check = (where: (string | number)[], key: string, value: number, scope: CalibratedParam["scope"]) => {
      const p = CALIBRATED_PARAMS.find((x) => x.key === key);
      if (!p) f.fail(where, `unknown calibrated parameter ${shownString(key)}; known: ${CALIBRATED_PARAMS.map((x) => x.key).join(", ")}`);
      if (scope === "kernels" && p!.scope !== "kernels") f.fail(where, `${key} is one value for every stack: it belongs under global, not under a kernel family`);
      if (!(value >= p!.min && value <= p!.max)) f.fail(where, `${key} must be between ${p!.min} and ${p!.max}, found ${value}`);
    };
    for (const [k, v] of Object.entries(f.data.global)) check(["global", k], k, v, "global");
    for (const [fam, vals] of Object.entries(f.data.kernels)) for (const [k, v] of Object.entries(vals ?? {})) check(["kernels", fam, k], k, v, "kernels");
  }).data;
  const c = parsed.covered;
  return Object.freeze({
    global: parsed.global,
    kernels: parsed.kernels as Calibration["kernels"],
    bandMemory: parsed.band.memory,
    heldOut: parsed.band.held_out ? { cases: parsed.band.held_out.cases, above: [...parsed.band.held_out.above].sort((x, y) => x - y) } : null,
    source: parsed.source,
    covered: c ? { engines: c.engines, parallel: c.parallel, moe: c.moe, maxSeq: c.max_seq, decodeGpus: c.decode_gpus ?? null } : null,
  });
}

/** The calibration in force: the shipped file, or the one a cross-validation fold set. */
export function currentCalibration(): Calibration {
  if (active) return active;
  loaded ??= loadCalibration();
  return loaded;
}

/** Run `fn` with `cal` in force (cross-validation folds, the fitter). Not re-entrant across awaits. */
export function withCalibration<T>(cal: Calibration, fn: () => T): T {
  const prev = active;
  active = cal;
  try {
    return fn();
  } finally {
    active = prev;
  }
}

const PARAM = new Map(CALIBRATED_PARAMS.map((p) => [p.key, p]));

// the values of the last (calibration, kernel family) asked for: estimates ask for the same few, many times
let lastCal: Calibration | null = null;
let lastKernels: KernelFamily | null = null;
let lastValues = new Map<string, number>();

/** The value of a calibrated parameter for an engine: its kernel family's fit, else the global fit, else the prior. */
export function calibrated(engine: EngineProfile, key: string): number {
  const cal = currentCalibration();
  if (cal !== lastCal || engine.kernels !== lastKernels) {
    lastCal = cal;
    lastKernels = engine.kernels;
    lastValues = new Map();
  }
  let v = lastValues.get(key);
  if (v === undefined) {
    v = resolveParam(cal, engine, key);
    lastValues.set(key, v);
  }
  return v;
}

function resolveParam(cal: Calibration, engine: EngineProfile, key: string): number {
  return resolveWithOrigin(cal, engine, key).value;
}

/** Where an engine's value of a calibrated parameter comes from: a kernel family's own fit (its own, or its
 *  serving sibling's), the fit over every stack's rows ("pooled"), or a hand-set mechanism prior. */
export type CalibratedOrigin = { readonly kind: "family"; readonly family: KernelFamily } | { readonly kind: "pooled" } | { readonly kind: "prior" };

export function calibratedOrigin(engine: EngineProfile, key: string): CalibratedOrigin {
  return resolveWithOrigin(currentCalibration(), engine, key).origin;
}

function resolveWithOrigin(cal: Calibration, engine: EngineProfile, key: string): { value: number; origin: CalibratedOrigin } {
  const p = PARAM.get(key);
  if (!p) throw new Error(`unknown calibrated parameter ${key}`);
  const prior = { value: p.prior, origin: { kind: "prior" } } as const;
  if (p.scope === "kernels") {
    const own = cal.kernels[engine.kernels]?.[key];
    if (own !== undefined) return { value: own, origin: { kind: "family", family: engine.kernels } };
    const sibling = SERVING_SIBLING[engine.kernels];
    // only the kernels' own efficiencies carry over: each runtime's scheduler and host loop are its own
    const shared = sibling && !p.host ? cal.kernels[sibling]?.[key] : undefined;
    if (shared !== undefined) return { value: shared, origin: { kind: "family", family: sibling! } };
    const mechanism = PRIOR_BY_KERNELS[engine.kernels]?.[key];
    if (mechanism !== undefined) return { value: mechanism, origin: { kind: "prior" } };
    // a PyTorch-based family without measured rows of its own, for a number whose kernels the PyTorch stacks
    // share: what the measured ones achieve together (the pooled fit, src/validate/fit.ts); else the prior
    if (!p.pooled || !engine.cachingAllocator) return prior;
  }
  const g = cal.global[key];
  return g !== undefined ? { value: g, origin: { kind: "pooled" } } : prior;
}
