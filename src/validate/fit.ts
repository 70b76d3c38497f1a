// Fit the calibrated numbers (src/engines/calibration.ts) to measured cases: coordinate descent over each
// parameter's range, minimising the summed absolute log error of the rows that parameter moves (memory rows
// at a counter the allocator margin reaches for the allocator numbers; throughput rows of the parameter's
// kernel family for the efficiencies), plus up to one row's worth of distance from the prior (the whole range
// away costs as much as one row's absolute log error of 1), so that a parameter
// few rows can pin down (or that trades off against another) stays near its mechanism value. A parameter with
// no such row keeps its prior. Deterministic.
import { CALIBRATED_PARAMS, PRIOR_BY_KERNELS, PRIOR_CALIBRATION, currentCalibration, withCalibration, type Calibration, type CalibratedParam } from "../engines/calibration.js";
import { engineProfile, type KernelFamily } from "../engines/profile.js";
import { parseVersions, tritonLinears } from "../engines/versions.js";
import { interconnect } from "../hardware/interconnect.js";
import type { PreparedCase } from "./score.js";
import { predictMemoryGib, predictTokensPerS } from "./score.js";

const MEMORY_PARAMS = new Set(["reserved_fixed_gib", "reserved_transient_fraction", "reserved_unpacked_fraction"]);
const GRID = 40;
const PASSES = 3;

interface Slot {
  readonly param: CalibratedParam;
  readonly kernels: KernelFamily | null;
  readonly rows: readonly PreparedCase[];
}

function kernelsOf(p: PreparedCase): KernelFamily {
  return engineProfile(p.workload.engine).kernels;
}

/** Rows a parameter can move. */
function rowsFor(param: CalibratedParam, kernels: KernelFamily | null, cases: readonly PreparedCase[]): PreparedCase[] {
  return cases.filter((p) => {
    if (kernels !== null && kernelsOf(p) !== kernels) return false;
    const engine = engineProfile(p.workload.engine);
    if (MEMORY_PARAMS.has(param.key)) {
      const m = p.c.metric;
      if (p.c.peakGib === null || !m || m === "allocated" || m === "active" || !engine.cachingAllocator) return false;
      if (param.key === "reserved_unpacked_fraction") return !p.workload.packed && ["full", "lora", "qlora"].includes(p.workload.kind);
      return true;
    }
    if (p.c.tokensPerS === null || p.gpu === null) return false;
    const k = p.workload.kind;
    const training = k === "full" || k === "lora" || k === "qlora";
    switch (param.key) {
      case "train_efficiency":
        return training;
      case "quant_train_penalty":
        return training && p.workload.quant !== "none";
      case "prefill_efficiency":
        // prefill rows only: in decode rows it trades off against the decode terms
        return k === "inference_prefill";
      case "link_efficiency_nvlink":
      case "link_efficiency_pcie": {
        if (!training || (p.workload.nGpus <= 1 && p.workload.offload === "none")) return false;
        const nv = interconnect(p.gpu).kind === "nvlink";
        return param.key === "link_efficiency_nvlink" ? nv && p.workload.nGpus > 1 : !nv || p.workload.offload !== "none";
      }
      case "decode_bw_efficiency":
      case "decode_host_ms_per_layer":
      case "decode_step_host_ms":
        return k === "inference_decode";
      case "triton_linear_host_ms":
        return k === "inference_decode" && tritonLinears(p.workload.quant, parseVersions(p.workload.engineVersion));
      case "decode_attn_bw_efficiency":
        return k === "inference_decode" && p.workload.promptTokens + p.workload.newTokens >= 8192;
      case "quant_decode_bw_factor":
        return k === "inference_decode" && p.workload.quant !== "none";
      default:
        return false;
    }
  });
}

/** Weight of the pull toward the prior, in rows. */
const PRIOR_WEIGHT = 1;

function priorOf(slot: Slot): number {
  return (slot.kernels !== null ? PRIOR_BY_KERNELS[slot.kernels]?.[slot.param.key] : undefined) ?? slot.param.prior;
}

function loss(slot: Slot, cal: Calibration, v: number): number {
  return withCalibration(cal, () => {
    const prior = priorOf(slot);
    // one row's worth across the parameter's whole range
    let sum = (PRIOR_WEIGHT * Math.abs(v - prior)) / (slot.param.max - slot.param.min);
    for (const p of slot.rows) {
      if (MEMORY_PARAMS.has(slot.param.key)) sum += Math.abs(Math.log(predictMemoryGib(p).gib / p.c.peakGib!));
      else {
        const t = predictTokensPerS(p);
        if (t !== null && t > 0) sum += Math.abs(Math.log(t / p.c.tokensPerS!));
      }
    }
    return sum;
  });
}

function setValue(cal: Calibration, slot: Slot, v: number): Calibration {
  if (slot.kernels === null) return { ...cal, global: { ...cal.global, [slot.param.key]: v } };
  return { ...cal, kernels: { ...cal.kernels, [slot.kernels]: { ...(cal.kernels[slot.kernels] ?? {}), [slot.param.key]: v } } };
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Fit every calibrated parameter that has rows, starting from the priors. */
export function fitCalibration(cases: readonly PreparedCase[], source = "fitted"): Calibration {
  const families = [...new Set(cases.map(kernelsOf))].sort();
  // Two levels. First every parameter is fitted as one value over all the rows it moves, whatever their
  // kernel family: what the measured stacks achieve together. That value is what a kernel family without
  // measured rows of its own gets (calibrated(): family fit, then mechanism prior of the family, then this),
  // instead of the hand-set prior. Then kernel-scoped parameters are refitted per family on its own rows, and the global ones with them.
  const pooled: Slot[] = [];
  const perFamily: Slot[] = [];
  for (const param of CALIBRATED_PARAMS) {
    const all = rowsFor(param, null, cases);
    // the pooled value of a per-family number stands for the PyTorch-based stacks (their own allocator,
    // cuBLAS and FlashAttention kernels); llama.cpp's ggml runtime is a different machine
    const rows = param.scope === "global" ? all : param.pooled ? all.filter((p) => engineProfile(p.workload.engine).cachingAllocator) : [];
    if (rows.length > 0) pooled.push({ param, kernels: null, rows });
    if (param.scope === "global") {
      // global parameters are refitted beside the family values, which they trade off against
      if (all.length > 0) perFamily.push({ param, kernels: null, rows: all });
      continue;
    }
    for (const k of families) {
      const own = rowsFor(param, k, cases);
      if (own.length > 0) perFamily.push({ param, kernels: k, rows: own });
    }
  }
  // the band and the covered range are not refitted per fold: they describe the shipped calibration
  const shipped = currentCalibration();
  let cal: Calibration = { ...PRIOR_CALIBRATION, bandMemory: shipped.bandMemory, covered: shipped.covered, source };
  cal = descend(cal, pooled);
  return descend(cal, perFamily);
}

/** Coordinate descent over the slots' grids, PASSES times, from `start`. */
function descend(start: Calibration, slots: readonly Slot[]): Calibration {
  let cal = start;
  for (let pass = 0; pass < PASSES; pass++) {
    for (const slot of slots) {
      const { min, max } = slot.param;
      let best = { v: NaN, l: Infinity };
      for (let i = 0; i <= GRID; i++) {
        const v = round4(min + ((max - min) * i) / GRID);
        const l = loss(slot, setValue(cal, slot, v), v);
        if (l < best.l - 1e-12) best = { v, l };
      }
      cal = setValue(cal, slot, best.v);
    }
  }
  return cal;
}
