// Quantities every memory term needs, derived once from (spec, workload, engine).
import type { EngineProfile } from "../engines/profile.js";
import type { LinearShape, ModelSpec } from "../spec/types.js";
import type { LoraModule, Workload } from "../workload/types.js";
import type { Trainable } from "./trainable.js";

export interface MemoryContext {
  readonly spec: ModelSpec;
  readonly workload: Workload;
  readonly engine: EngineProfile;
  /** bytes of one activation element in the compute dtype */
  readonly actBytes: number;
  /** bytes of a non-quantized weight element as stored on the GPU (fp32 under torch AMP mixed precision) */
  readonly weightBytes: number;
  /** DeepSpeed mixed precision: the fp32 master copy lives in the optimizer's partitions */
  readonly masterInOptimizer: boolean;
  /** MLP width a token passes through in one layer: the dense intermediate size, or top-k routed experts
   *  plus the shared experts for MoE */
  readonly activeMlpWidth: number;
  /** bytes of one residual-stream element: fp32 when PEFT upcasts the embeddings of a k-bit model */
  readonly streamBytes: number;
  /** bytes of the outputs of quantized linears (bitsandbytes casts them back to the input dtype) */
  readonly linearOutBytes: number;
  readonly training: boolean;
  /** base weights receive gradients (full fine-tuning) */
  readonly fullTraining: boolean;
  /** the frozen base is stored in a k-bit format (bnb, GPTQ, AWQ, torchao NF4, GGUF) */
  readonly quantizedBase: boolean;
  /** bnb k-bit base that PEFT's prepare_model_for_kbit_training upcasts */
  readonly kbitUpcast: boolean;
  /** tokens in one micro-batch that set the peak (batch x longest sequence) */
  readonly peakTokens: number;
  /** sequence length that sets the peak */
  readonly peakSeqLen: number;
  readonly loraTargets: ReadonlySet<LoraModule>;
  /** compute capability of the target GPU ("8.9"), when one is named: some library paths depend on it */
  readonly gpuComputeCapability: string | null;
  /** results several terms read, computed on first use (adapters.ts, trainable.ts) */
  readonly memo: ContextMemo;
}

export interface ContextMemo {
  loraParams: number | undefined;
  trainable: Trainable | undefined;
  quantizableParams: number | undefined;
}

export const DTYPE_BYTES = { bf16: 2, fp16: 2, fp32: 4 } as const;

const BNB_KBIT = new Set(["bnb-nf4", "bnb-nf4-dq", "bnb-fp4", "bnb-int8"]);

// the last context made: an estimate asks for the same one twice (memory, then time) and fit search asks for
// the same workload again; contexts are read-only, so handing back the same object changes no figure
let last: MemoryContext | null = null;

export function makeContext(spec: ModelSpec, workload: Workload, engine: EngineProfile, gpuComputeCapability: string | null = null): MemoryContext {
  if (last !== null && last.workload === workload && last.spec === spec && last.engine === engine && last.gpuComputeCapability === gpuComputeCapability) return last;
  last = build(spec, workload, engine, gpuComputeCapability);
  return last;
}

function build(spec: ModelSpec, workload: Workload, engine: EngineProfile, gpuComputeCapability: string | null): MemoryContext {
  const actBytes = DTYPE_BYTES[workload.computeDtype];
  const training = workload.kind === "full" || workload.kind === "lora" || workload.kind === "qlora";
  const quantizedBase = workload.quant !== "none";
  const kbitUpcast = training && engine.kbitUpcastFp32 && BNB_KBIT.has(workload.quant);
  const seq = workload.kind.startsWith("inference") ? workload.promptTokens + workload.newTokens : workload.seqLen;
  const fullMixed = workload.kind === "full" && workload.precision === "mixed";
  const masterInOptimizer = fullMixed && workload.sharding.startsWith("zero");
  return {
    spec,
    workload,
    engine,
    actBytes,
    weightBytes: fullMixed && !masterInOptimizer ? 4 : actBytes,
    masterInOptimizer,
    activeMlpWidth: spec.numExperts > 1 ? spec.expertIntermediateSize * spec.expertsPerToken + spec.sharedExpertIntermediateSize : spec.intermediateSize,
    streamBytes: kbitUpcast ? 4 : actBytes,
    linearOutBytes: kbitUpcast ? 4 : actBytes,
    training,
    fullTraining: workload.kind === "full",
    quantizedBase,
    kbitUpcast,
    peakTokens: workload.batch * seq,
    peakSeqLen: seq,
    loraTargets: targetSet(workload.lora?.targets),
    gpuComputeCapability,
    memo: { loraParams: undefined, trainable: undefined, quantizableParams: undefined },
  };
}

const NO_TARGETS: ReadonlySet<LoraModule> = new Set();
const targetSets = new WeakMap<readonly LoraModule[], ReadonlySet<LoraModule>>();

/** The LoRA targets as a set, one per targets list (workloads that differ elsewhere share their lora object). */
function targetSet(targets: readonly LoraModule[] | undefined): ReadonlySet<LoraModule> {
  if (!targets || targets.length === 0) return NO_TARGETS;
  let s = targetSets.get(targets);
  if (!s) {
    s = new Set(targets);
    targetSets.set(targets, s);
  }
  return s;
}

/** Does this linear keep its input for backward (weight gradient or a LoRA adapter on it)? */
export function savesInput(ctx: MemoryContext, name: LinearShape["name"]): boolean {
  return ctx.training && (ctx.fullTraining || ctx.loraTargets.has(name));
}
