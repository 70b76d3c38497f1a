// Model states per GPU during training: parameters (frozen base and trainable), gradients, optimizer state and
// the buffers a multi-GPU strategy adds. With Ψ parameters on N data-parallel GPUs and AdamW:
//   DDP                 replica: 16Ψ mixed / 8Ψ pure, plus the Reducer's gradient buckets (one more gradient copy)
//   ZeRO-1 (Pos)        2Ψ + 2Ψ + 12Ψ/N                                     ZeRO paper §5.1, K = 12
//   ZeRO-2 (Pos+g)      2Ψ + (2 + 12)Ψ/N                                    ZeRO paper §5.2
//   ZeRO-3 (Pos+g+p)    (2 + 4 + 12)Ψ/N + 4·largest module                  DeepSpeed stage3.py
//                       estimate_zero3_model_states_mem_needs (fp32 gradient partitions, the gathered module's
//                       16-bit parameters and gradients)
//   ZeRO-2 + offload    2Ψ on the GPU (optimizer and gradients in CPU memory)  estimate_zero2_..._mem_needs
//   ZeRO-3 + offload    4·largest (+ 2Ψ/N when only the optimizer is offloaded) estimate_zero3_..._mem_needs
//   FSDP full shard     (4 + 4 + 8)Ψ/N mixed / (2 + 2 + 4)Ψ/N pure, plus, as fitlab's worker runs torch's FSDP2
//                       (fully_shard on each decoder layer and on the transformers model as root;
//                       engine/fitlab_worker/distributed.py FullyShard), the root unit (embeddings, final norm,
//                       lm_head) gathered in the compute dtype from before the forward until its gradients are
//                       reduced at the end of backward (torch/distributed/fsdp/_fully_shard/_fsdp_state.py
//                       _lazy_init: the root does not reshard after forward; _root_post_backward_final_callback),
//                       with lm_head's unsharded gradient alive from the start of backward; and two decoder layers
//                       gathered (the current one and the one prefetched, _fsdp_param_group.py pre_forward,
//                       _prefetch_unshard) with one layer's unsharded gradient in the compute dtype and its
//                       reduce-scatter input in the shards' dtype (_fsdp_collectives.py foreach_reduce)
// At the optimizer step ZeRO-1/2 cast their gradient partition to fp32 (stage_1_and_2.py step:
// single_grad_partition ... .to(fp32 partition dtype)): 4Ψ/N more for that moment.
import { adapterBytes } from "./adapters.js";
import type { MemoryContext } from "./context.js";
import { gradientsBytes } from "./gradients.js";
import { optimizerMemory } from "./optimizer-state.js";
import { shardPlan, type ShardPlan } from "./parallel.js";
import { quantStateBytes } from "./quant-state.js";
import { trainable } from "./trainable.js";
import { weightsBytes } from "./weights.js";

export interface ModelStates {
  readonly weights: number;
  readonly quantState: number;
  readonly adapters: number;
  /** gradients held through forward and backward (accumulation, replicas, partitions) */
  readonly gradientsPersistent: number;
  /** gradients at the optimizer step */
  readonly gradientsAtStep: number;
  readonly optimizerState: number;
  readonly optimizerStep: number;
  /** parameters (and gradients) gathered for compute under ZeRO-3 / FSDP, or autocast's 16-bit weight copies */
  readonly gathered: number;
  /** optimizer state held in CPU-backed unified memory by a paged optimizer */
  readonly paged: number;
  /** bytes offloaded to CPU memory by the strategy (optimizer state, parameters) */
  readonly hostBytes: number;
  readonly plan: ShardPlan;
}

/** Parameters of the largest single module (DeepSpeed's largest_layer_params: the embedding or lm_head for
 *  LLMs, else the widest linear; MoE experts are one fused module in transformers 5). */
export function largestModuleParams(ctx: MemoryContext): number {
  const { spec } = ctx;
  const linear = Math.max(...spec.linears.map((l) => l.inFeatures * l.outFeatures * (l.copies > 1 ? l.copies : 1)));
  return Math.max(spec.vocabSize * spec.hiddenSize, linear);
}

/** Parameters in one decoder layer (an FSDP unit under transformer_auto_wrap_policy). */
function layerParams(ctx: MemoryContext): number {
  const { spec } = ctx;
  return (spec.params.attention + spec.params.mlp) / spec.numLayers;
}

export function modelStates(ctx: MemoryContext): ModelStates {
  const { workload, spec } = ctx;
  const plan = shardPlan(workload);
  const t = trainable(ctx);
  const opt = optimizerMemory(ctx);
  const grads = gradientsBytes(ctx);
  const base = weightsBytes(ctx);
  const quant = quantStateBytes(ctx);
  const adapters = adapterBytes(ctx);
  const shard = (b: number, n: number) => Math.round(b / n);
  const zero = workload.sharding.startsWith("zero") && plan.gpus > 1;
  const stage3 = plan.gathers === "zero3";
  const accumulating = workload.gradAccum > 1 && !workload.optimizerInBackward;

  // parameters: offloaded ones are fetched per module, so only the gathered module counts
  const weights = plan.offloadParams ? 0 : shard(base, plan.params);
  const quantState = plan.offloadParams ? 0 : shard(quant, plan.params);
  const adapterRes = plan.offloadParams ? 0 : shard(adapters, plan.params);

  // gradients
  let gradientsPersistent: number;
  let gradientsAtStep: number;
  if (plan.offloadOptimizer && zero) {
    // gradients stream to the CPU partition bucket by bucket (offload_optimizer): only buckets stay
    gradientsPersistent = 0;
    gradientsAtStep = 0;
  } else if (stage3) {
    // stage 3 reduces into fp32 gradient partitions (4 B per parameter over N)
    const fp32 = shard(t.params * 4, plan.grads);
    gradientsPersistent = fp32;
    gradientsAtStep = fp32;
  } else if (zero) {
    const full = grads; // 16-bit gradients produced by backward
    const partition = workload.sharding === "zero1" ? full : shard(full, plan.optimizer);
    const fp32Partition = ctx.fullTraining && workload.precision === "mixed" ? shard(t.params * 4, plan.optimizer) : 0;
    gradientsPersistent = partition;
    gradientsAtStep = partition + fp32Partition;
  } else {
    const g = shard(grads, plan.grads);
    const buckets = plan.ddpBuckets ? g : 0;
    gradientsPersistent = (accumulating ? g : 0) + buckets;
    gradientsAtStep = g + buckets;
  }

  // optimizer state
  const offloadedOpt = plan.offloadOptimizer ? opt.stateBytes + opt.stepTempBytes : 0;
  const optimizerState = plan.offloadOptimizer ? 0 : shard(opt.stateBytes, plan.optimizer);
  // DeepSpeed steps its partitions with FusedAdam (multi_tensor_apply, in place): no foreach temporary
  const optimizerStep = plan.offloadOptimizer || zero ? 0 : shard(opt.stepTempBytes, plan.optimizer);

  // gathered parameters
  let gathered = 0;
  if (stage3) {
    // the largest module's 16-bit parameters and gradients (DeepSpeed: largest_layer_memory = 4 x params);
    // frozen modules gather parameters only
    gathered = largestModuleParams(ctx) * (ctx.fullTraining ? 2 * ctx.actBytes : ctx.actBytes);
  } else if (plan.gathers === "fsdp") {
    const rootParams = spec.params.embeddings + spec.params.lmHead;
    const unit = layerParams(ctx);
    const compute = ctx.quantizedBase ? base / Math.max(1, spec.params.total) : ctx.actBytes; // QLoRA: quant_storage keeps the 4-bit bytes
    const unitGrads = ctx.fullTraining ? unit * (ctx.actBytes + t.gradBytes) : 0;
    const rootGrads = ctx.fullTraining ? spec.params.lmHead * ctx.actBytes : 0;
    gathered = Math.round(rootParams * compute + 2 * unit * compute + unitGrads + rootGrads);
  } else if (ctx.fullTraining && workload.precision === "mixed" && !ctx.masterInOptimizer && plan.gathers === "none") {
    // torch autocast casts each fp32 weight to bf16 once per forward and autograd saves the cast for backward
    // (aten/src/ATen/autocast_mode.cpp cached_cast); with checkpointing only the recomputed layer keeps them
    const linear = spec.params.attention + spec.params.mlp + spec.params.lmHead;
    gathered = Math.round(workload.gradCkpt === "none" ? linear * ctx.actBytes : (linear / spec.numLayers) * ctx.actBytes);
  }

  const hostBytes = offloadedOpt + (plan.offloadParams ? base + quant + adapters : 0) + (plan.offloadOptimizer && zero ? grads : 0);
  return {
    weights,
    quantState,
    adapters: adapterRes,
    gradientsPersistent,
    gradientsAtStep,
    optimizerState,
    optimizerStep,
    gathered,
    paged: shard(opt.pagedBytes, plan.optimizer),
    hostBytes,
    plan,
  };
}
