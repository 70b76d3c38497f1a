// A correction learned from the user's own runs, per GPU and engine: a memory margin (measured over
// predicted peak) and a compute efficiency (measured over predicted tokens/s). Stored in the fitlab home
// (calibration.json) by `fitlab calibrate`; while active, the planner's estimate scales its peaks and its
// speed by them and says so (estimate.calibration). `--no-calibration` leaves the planner as shipped.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { FitlabInputError } from "../errors.js";
import { loadJsonData } from "../input/data-file.js";
import { LIMITS } from "../input/limits.js";

export const correctionSchema = z
  .object({
    gpu: z.string().min(1),
    engine: z.string().min(1),
    /** measured / predicted peak memory (device level where NVML measured it, else reserved) */
    memory_factor: z.number().positive().max(100),
    /** measured / predicted tokens per second; null when no run measured speed */
    compute_factor: z.number().positive().max(100).nullable(),
    runs: z.number().int().positive(),
    fitted_at: z.string(),
  })
  .strict();
export type Correction = z.infer<typeof correctionSchema>;

export const calibrationSchema = z.object({ fitlab_calibration: z.literal(1), corrections: z.array(correctionSchema) }).strict();
export type CalibrationTable = z.infer<typeof calibrationSchema>;

export function calibrationFile(): string {
  return path.join(process.env.FITLAB_HOME ?? path.join(os.homedir(), ".fitlab"), "calibration.json");
}

/** The stored corrections, or null when there are none. A damaged file (not JSON, not a file, a field out of
 *  range) is one line naming it and the way out: `fitlab calibrate --reset` (or --no-calibration). */
export function readCalibration(file: string = calibrationFile()): CalibrationTable | null {
  if (!fs.existsSync(file)) return null;
  const hint = "; run `fitlab calibrate --reset` to clear it (or pass --no-calibration)";
  return loadJsonData(file, "calibration file", LIMITS.smallJsonBytes, calibrationSchema, (f) => {
    const seen = new Set<string>();
    f.data.corrections.forEach((c, i) => {
      const key = `${c.gpu}\u0000${c.engine}`;
      if (seen.has(key)) f.fail(["corrections", i], `a second correction for ${c.gpu} with ${c.engine}`);
      seen.add(key);
    });
  }, hint).data;
}

export function writeCalibration(t: CalibrationTable, file: string = calibrationFile()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st && !st.isFile()) throw new FitlabInputError(`calibration file ${file} is ${st.isDirectory() ? "a folder" : "not a regular file"}: move it away, then run \`fitlab calibrate\` again`);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(t, null, 2)}\n`);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

// The table the planner uses in this process: set once by the CLI (or the web server) at start-up.
let active: CalibrationTable | null = null;

export function setActiveCalibration(t: CalibrationTable | null): void {
  active = t;
}

/** Load the home's calibration into this process unless `use` is false (`--no-calibration`). */
export function activateCalibration(use: boolean): void {
  setActiveCalibration(use ? readCalibration() : null);
}

export function activeCorrection(gpu: string, engine: string): Correction | null {
  return active?.corrections.find((c) => c.gpu === gpu && c.engine === engine) ?? null;
}

export function hasActiveCalibration(): boolean {
  return (active?.corrections.length ?? 0) > 0;
}
