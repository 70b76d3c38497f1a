// Term: seconds a training step spends moving tensors between GPUs and to the host, per GPU. Ring collectives
// (NCCL): an all-gather or a reduce-scatter moves (g-1)/g of the buffer through each GPU, an all-reduce twice
// that (Patarasuk & Yuan 2009; NCCL docs "Performance: bus bandwidth").
//  - ZeRO-3 / FSDP full shard: every micro-step all-gathers each unit's parameters for forward and again for
//    backward (FSDP reshard_after_forward=True, DeepSpeed stage3 release after use), and reduce-scatters the
//    gradients of what trains (torch/distributed/fsdp/_runtime_utils.py _pre_forward_unshard /
//    _pre_backward_hook, _post_backward_hook reduce_scatter). Frozen bases are gathered in their stored form
//    (4-bit storage for QLoRA: bitsandbytes quant_storage).
//  - DDP: one all-reduce of the gradients per optimizer step (accelerate / HF Trainer skip the sync on
//    accumulation steps with no_sync). ZeRO-1/2: reduce-scatter of gradients and all-gather of the updated
//    parameters per optimizer step (deepspeed/runtime/zero/stage_1_and_2.py).
//  - Parameter offload (FSDP CPUOffload(offload_params=True), DeepSpeed offload_param): each GPU copies its
//    shard from host memory before forward and before backward.
//  - Optimizer offload (DeepSpeed offload_optimizer): once per optimizer step the gradients go down to the host
//    and the updated parameters come back.
// Not hidden behind compute: the published FSDP-QLoRA timings on two PCIe GPUs grow by a fixed transfer time
// per step whatever the batch (AnswerDotAI/fsdp_qlora benchmarks), i.e. step = compute + transfer.
import { calibrated } from "../engines/calibration.js";
import type { Gpu } from "../hardware/gpu.js";
import { interconnect } from "../hardware/interconnect.js";
import type { MemoryContext } from "../memory/context.js";
import { shardPlan } from "../memory/parallel.js";
import { quantStateBytes } from "../memory/quant-state.js";
import { trainable } from "../memory/trainable.js";
import { weightsBytes } from "../memory/weights.js";

export interface CommSeconds {
  /** per micro-step (forward + backward) */
  readonly perMicroS: number;
  /** once per optimizer step (gradient collectives of DDP/ZeRO-1/2, optimizer offload copies) */
  readonly perStepS: number;
}

export function communicationSeconds(ctx: MemoryContext, gpu: Gpu): CommSeconds {
  const plan = shardPlan(ctx.workload);
  if (plan.gpus <= 1 && !plan.offloadParams && !plan.offloadOptimizer) return { perMicroS: 0, perStepS: 0 };
  const link = interconnect(gpu);
  const peerBw = link.peerBytesPerS * calibrated(ctx.engine, link.kind === "nvlink" ? "link_efficiency_nvlink" : "link_efficiency_pcie");
  const hostBw = link.hostBytesPerS * calibrated(ctx.engine, "link_efficiency_pcie");
  const t = trainable(ctx);
  const gradBytes = t.params * t.gradBytes;
  const storedBytes = weightsBytes(ctx) + quantStateBytes(ctx);
  // the shard group: all data-parallel GPUs (hybrid shard: one node)
  const group = Math.max(1, plan.params);
  const share = (group - 1) / group;
  let perMicroS = 0;
  let perStepS = 0;
  if (plan.gathers !== "none") perMicroS += (2 * share * storedBytes + share * gradBytes) / peerBw;
  else if (plan.dataParallel > 1) {
    const dp = (plan.dataParallel - 1) / plan.dataParallel;
    perStepS += plan.optimizer > 1 ? (dp * gradBytes + dp * t.params * t.paramBytes) / peerBw : (2 * dp * gradBytes) / peerBw;
  }
  if (plan.offloadParams) perMicroS += (2 * storedBytes) / group / hostBw;
  if (plan.offloadOptimizer) perStepS += (t.params * (t.gradBytes + t.paramBytes)) / plan.optimizer / hostBw;
  return { perMicroS, perStepS };
}
