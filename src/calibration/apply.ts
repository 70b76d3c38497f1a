// Apply a user's correction to a planner estimate: every peak figure times the memory factor (the fit
// rule is then the same fitsIn on the corrected minimum), tokens/s times the compute factor and times
// divided by it. The estimate names the correction it used, so a calibrated figure is never mistaken
// for the shipped model's.
import type { Correction } from "./correction.js";

export interface CalibrationNote {
  readonly memory_factor: number;
  readonly compute_factor: number | null;
  readonly runs: number;
  readonly fitted_at: string;
}

interface Peaked {
  readonly peak: { readonly allocated_bytes: number; readonly reserved_bytes: number; readonly device_bytes: number; readonly low_bytes: number; readonly high_bytes: number; readonly minimum_device_bytes: number };
  readonly gpu_usable_bytes: number;
  readonly fits: boolean;
  readonly headroom_bytes: number;
  readonly tokens_per_s: number;
  readonly step_seconds: number;
  readonly total_seconds: number | null;
}

export function applyCorrection<E extends Peaked>(e: E, c: Correction): E & { calibration: CalibrationNote } {
  const m = c.memory_factor;
  const k = c.compute_factor ?? 1;
  const scale = (b: number) => Math.round(b * m);
  const peak = {
    ...e.peak,
    allocated_bytes: scale(e.peak.allocated_bytes),
    reserved_bytes: scale(e.peak.reserved_bytes),
    device_bytes: scale(e.peak.device_bytes),
    low_bytes: scale(e.peak.low_bytes),
    high_bytes: scale(e.peak.high_bytes),
    minimum_device_bytes: scale(e.peak.minimum_device_bytes),
  };
  const fits = peak.minimum_device_bytes <= e.gpu_usable_bytes;
  return {
    ...e,
    peak,
    fits,
    headroom_bytes: e.gpu_usable_bytes - (fits ? peak.device_bytes : peak.minimum_device_bytes),
    tokens_per_s: Math.round(e.tokens_per_s * k * 10) / 10,
    step_seconds: Math.round((e.step_seconds / k) * 1000) / 1000,
    total_seconds: e.total_seconds === null ? null : Math.round(e.total_seconds / k),
    calibration: { memory_factor: m, compute_factor: c.compute_factor, runs: c.runs, fitted_at: c.fitted_at },
  };
}
