// The planner's one entry point: model + workload + GPU -> the estimate object that the CLI prints with
// --json and the web server returns. Integer bytes and seconds; formatting happens in the adapters.
import { applyCorrection, type CalibrationNote } from "./calibration/apply.js";
import { activeCorrection } from "./calibration/correction.js";
import { engineProfile } from "./engines/profile.js";
import type { Gpu } from "./hardware/gpu.js";
import { sustainedMatmul } from "./hardware/sustained.js";
import { estimateMemory, fitsIn, type MemoryComponents, type MemoryEstimate } from "./memory/estimate.js";
import type { ModelSpec } from "./spec/types.js";
import { decodeCoverageWarning } from "./time/decode-coverage.js";
import { estimateTime, type TimeEstimate } from "./time/throughput.js";
import type { Workload } from "./workload/types.js";

export interface Estimate {
  readonly model: string;
  readonly gpu: string;
  readonly gpu_usable_bytes: number;
  readonly workload: Workload;
  readonly peak: {
    readonly allocated_bytes: number;
    readonly reserved_bytes: number;
    readonly device_bytes: number;
    readonly low_bytes: number;
    readonly high_bytes: number;
    readonly minimum_device_bytes: number;
    readonly phase: MemoryEstimate["peakPhase"];
    /** GPUs the run spans: the byte figures above are per GPU; total_device_bytes sums them */
    readonly gpus: number;
    readonly total_device_bytes: number;
    /** bytes the strategy keeps in CPU memory (ZeRO / FSDP offload) */
    readonly offloaded_host_bytes: number;
    /** half-width of the band as a fraction */
    readonly band: number;
  };
  readonly components: MemoryComponents;
  readonly paged_host_bytes: number;
  readonly fits: boolean;
  /** usable bytes left on the card at the peak (negative: short by that much) */
  readonly headroom_bytes: number;
  readonly tokens_per_s: number;
  readonly step_seconds: number;
  /** seconds for `datasetTokens` x epochs, when given */
  readonly total_seconds: number | null;
  readonly bottleneck: TimeEstimate["bottleneck"];
  readonly flops_per_token: number;
  readonly prefill_seconds: number;
  readonly decode_tokens_per_s: number;
  /** training: seconds per optimizer step moving tensors between GPUs and to the host (src/time/communication.ts) */
  readonly transfer_seconds: number;
  readonly warnings: readonly string[];
  /** the user's correction for this GPU and engine (`fitlab calibrate`), when one was applied */
  readonly calibration: CalibrationNote | null;
}

export interface EstimateOptions {
  /** training: tokens per epoch x epochs; inference: number of requests is folded in by the caller */
  readonly datasetTokens?: number;
  /** false: the shipped model only, even when the user has calibrated this GPU and engine */
  readonly calibration?: boolean;
}

export function estimate(spec: ModelSpec, workload: Workload, gpu: Gpu, opts: EstimateOptions = {}): Estimate {
  const mem = estimateMemory(spec, workload, gpu);
  const time = estimateTime(spec, workload, gpu);
  const fits = fitsIn(mem, gpu.usableBytes);
  const total = opts.datasetTokens !== undefined && time.tokensPerS > 0 ? Math.round(opts.datasetTokens / time.tokensPerS) : null;
  const warnings = [...mem.warnings, ...sustainedMatmul(gpu).warnings];
  if (workload.computeDtype === "bf16" && !gpu.bf16Native) warnings.push(`${gpu.name} has no native bf16: use fp16 (bf16 runs emulated and slow)`);
  const decodeCards = workload.kind === "inference_decode" ? decodeCoverageWarning(engineProfile(workload.engine), gpu) : null;
  if (decodeCards) warnings.push(decodeCards);
  const raw: Estimate = {
    model: spec.name,
    gpu: gpu.name,
    gpu_usable_bytes: gpu.usableBytes,
    workload,
    peak: {
      allocated_bytes: mem.allocatedBytes,
      reserved_bytes: mem.reservedBytes,
      device_bytes: mem.deviceBytes,
      low_bytes: mem.lowBytes,
      high_bytes: mem.highBytes,
      minimum_device_bytes: mem.minimumDeviceBytes,
      phase: mem.peakPhase,
      gpus: mem.gpus,
      total_device_bytes: mem.totalDeviceBytes,
      offloaded_host_bytes: mem.offloadedHostBytes,
      band: mem.band,
    },
    components: mem.components,
    paged_host_bytes: mem.pagedHostBytes,
    fits,
    headroom_bytes: gpu.usableBytes - (fits ? mem.deviceBytes : mem.minimumDeviceBytes),
    tokens_per_s: Math.round(time.tokensPerS * 10) / 10,
    step_seconds: Math.round(time.stepSeconds * 1000) / 1000,
    total_seconds: total,
    bottleneck: time.bottleneck,
    flops_per_token: Math.round(time.flopsPerToken),
    prefill_seconds: Math.round(time.prefillSeconds * 1000) / 1000,
    decode_tokens_per_s: Math.round(time.decodeTokensPerS * 10) / 10,
    transfer_seconds: Math.round(time.transferSeconds * 1000) / 1000,
    warnings,
    calibration: null,
  };
  const correction = opts.calibration === false ? null : activeCorrection(gpu.name, workload.engine);
  return correction ? applyCorrection(raw, correction) : raw;
}
