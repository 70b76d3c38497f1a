// How a multi-GPU strategy splits each memory term, per GPU. Training: DDP keeps a full replica; ZeRO
// partitions optimizer state (stage 1), gradients (2) and parameters (3) over the data-parallel GPUs
// (Rajbhandari et al. 2020, "ZeRO", §5, Figure 1); FSDP full shard is stage 3, hybrid shard is stage 3 inside a
// node. Inference: tensor parallel splits every layer's heads and MLP columns; pipeline parallel and
// accelerate's device_map="auto" place whole layers on each GPU.
import type { Workload } from "../workload/types.js";

export interface ShardPlan {
  /** GPUs the run spans */
  readonly gpus: number;
  /** divisor of each term per GPU (1 = replicated) */
  readonly params: number;
  readonly grads: number;
  readonly optimizer: number;
  /** optimizer state (and its step) lives in CPU memory (DeepSpeed offload_optimizer) */
  readonly offloadOptimizer: boolean;
  /** parameters live in CPU memory between uses (DeepSpeed offload_param) */
  readonly offloadParams: boolean;
  /** ZeRO-3 / FSDP gather each unit's full parameters before computing with it */
  readonly gathers: "none" | "zero3" | "fsdp";
  /** torch DDP's Reducer copies gradients into flat buckets for all-reduce (gradient_as_bucket_view=False) */
  readonly ddpBuckets: boolean;
  /** layers are spread over the GPUs (device_map, pipeline): activations and logits are per stage */
  readonly layerSplit: boolean;
  /** tensor parallel: heads and MLP columns split over the GPUs */
  readonly tensorSplit: boolean;
  /** GPUs that process different data at the same time (throughput scales with these) */
  readonly dataParallel: number;
}

export function shardPlan(w: Workload): ShardPlan {
  const n = w.nGpus;
  const base: ShardPlan = { gpus: n, params: 1, grads: 1, optimizer: 1, offloadOptimizer: false, offloadParams: false, gathers: "none", ddpBuckets: false, layerSplit: false, tensorSplit: false, dataParallel: 1 };
  if (n <= 1 && w.offload === "none") return { ...base, gpus: 1 };
  const offloadOptimizer = w.offload !== "none";
  const offloadParams = w.offload === "optimizer+params";
  switch (w.sharding) {
    case "none":
      return { ...base, offloadOptimizer, offloadParams };
    case "ddp":
      return { ...base, ddpBuckets: n > 1, dataParallel: n, offloadOptimizer };
    case "zero1":
      return { ...base, optimizer: n, dataParallel: n, offloadOptimizer };
    case "zero2":
    case "zero2-offload":
      // DeepSpeed's estimator (stage_1_and_2.py estimate_zero2_model_states_mem_needs) counts the full 16-bit
      // gradients of backward (4 x params with the parameters) before they are reduced into the partitions
      return { ...base, optimizer: n, dataParallel: n, offloadOptimizer };
    case "zero3":
    case "zero3-offload":
      return { ...base, params: n, grads: n, optimizer: n, gathers: "zero3", dataParallel: n, offloadOptimizer, offloadParams };
    case "fsdp":
      return { ...base, params: n, grads: n, optimizer: n, gathers: "fsdp", dataParallel: n, offloadOptimizer, offloadParams };
    case "fsdp-hybrid": {
      const g = Math.max(1, Math.min(n, w.gpusPerNode));
      return { ...base, params: g, grads: g, optimizer: g, gathers: "fsdp", dataParallel: n, offloadOptimizer, offloadParams };
    }
    case "tp":
      return { ...base, params: n, grads: n, optimizer: n, tensorSplit: true };
    case "pp":
    case "device-map":
      return { ...base, params: n, grads: n, optimizer: n, layerSplit: true };
  }
}
