// Which cards a decode-speed estimate rests on. A decode step's time is the weights (and cache) streamed at
// the achieved fraction of the card's bandwidth that the engine's kernel family reached on the published
// measurements (decode_bw_efficiency, data/calibration.yaml). Those measurements ran on a few cards only, and
// a family's fraction can carry what was particular to them (a card, a machine, a benchmark's setup): across
// sources the held-out throughput error is larger than in sample (`fitlab validate --cv source`). So an
// estimate on a card the family was never measured on says which cards its efficiency comes from.
import { calibratedOrigin, currentCalibration } from "../engines/calibration.js";
import type { EngineProfile } from "../engines/profile.js";
import type { Gpu } from "../hardware/gpu.js";

/** The warning for a decode estimate on a card outside its kernels' measured decode cards, else null. */
export function decodeCoverageWarning(engine: EngineProfile, gpu: Gpu): string | null {
  const cards = currentCalibration().covered?.decodeGpus;
  if (!cards) return null;
  const origin = calibratedOrigin(engine, "decode_bw_efficiency");
  if (origin.kind !== "family") return `decode speed: no published decode measurement of the ${engine.kernels} kernels; their bandwidth efficiency is the mechanism prior`;
  const measured = cards[origin.family] ?? [];
  if (measured.length === 0 || measured.includes(gpu.name)) return null;
  const whose = origin.family === engine.kernels ? `the ${engine.kernels} kernels` : `the ${origin.family} kernels (which ${engine.kernels} shares)`;
  return `decode speed: ${whose} were measured decoding only on ${measured.join(", ")}, not on ${gpu.name}; the estimate carries the bandwidth efficiency reached there`;
}
