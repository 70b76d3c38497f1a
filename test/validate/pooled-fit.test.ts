// The two-level fit (src/validate/fit.ts): a PyTorch-based kernel family with no measured rows of its own takes
// the training/prefill efficiency fitted over the other PyTorch stacks' rows, not the hand-set prior; decode
// numbers (each runtime's own kernels) and llama.cpp keep their mechanism priors. Named case: the torchtune
// README @1814feb17 'Optimization flags' table (Llama-3.2-3B on an A100, cases M008/M011/M014/M015 of
// test/fixtures/cases-public.csv) scored with the calibration fitted without torchtune's rows.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CALIBRATED_PARAMS, calibrated, PRIOR_CALIBRATION, withCalibration } from "../../src/engines/calibration.js";
import { engineProfile } from "../../src/engines/profile.js";
import { readCases } from "../../src/validate/cases.js";
import { prepareAll } from "../../src/validate/cv.js";
import { fitCalibration } from "../../src/validate/fit.js";
import { predictTokensPerS } from "../../src/validate/score.js";

const FILE = fileURLToPath(new URL("../fixtures/cases-public.csv", import.meta.url));
const trusted = readCases(FILE).cases.filter((c) => c.trust === "high" || c.trust === "medium");
const { prepared } = withCalibration(PRIOR_CALIBRATION, () => prepareAll(trusted));
const TORCHTUNE = "https://github.com/pytorch/torchtune";
const withoutTorchtune = fitCalibration(prepared.filter((p) => p.c.source !== TORCHTUNE), "without torchtune");
const prior = (key: string) => CALIBRATED_PARAMS.find((p) => p.key === key)!.prior;

describe("pooled fallback for kernel families without rows", () => {
  it("torchtune held out: its training efficiency is the pooled PyTorch fit, not the 0.45 prior", () => {
    const tt = engineProfile("torchtune");
    expect(withoutTorchtune.kernels.torchtune).toBeUndefined();
    const pooled = withoutTorchtune.global.train_efficiency!;
    expect(pooled).toBeGreaterThan(prior("train_efficiency"));
    expect(withCalibration(withoutTorchtune, () => calibrated(tt, "train_efficiency"))).toBe(pooled);
  });

  it("decode numbers and non-PyTorch runtimes keep their priors; a serving runtime takes its sibling's kernel efficiencies, not its host times", () => {
    const serving = new Set(["vllm", "sglang"]);
    const noServing = fitCalibration(prepared.filter((p) => !serving.has(engineProfile(p.workload.engine).kernels)), "without vllm and sglang");
    const vllm = engineProfile("vllm");
    withCalibration(noServing, () => {
      expect(calibrated(vllm, "decode_attn_bw_efficiency")).toBe(prior("decode_attn_bw_efficiency"));
      expect(calibrated(vllm, "decode_bw_efficiency")).toBe(prior("decode_bw_efficiency"));
    });
    const noVllm = fitCalibration(prepared.filter((p) => engineProfile(p.workload.engine).kernels !== "vllm"), "without vllm");
    expect(noVllm.kernels.vllm).toBeUndefined();
    withCalibration(noVllm, () => {
      expect(calibrated(vllm, "decode_bw_efficiency")).toBe(noVllm.kernels.sglang!.decode_bw_efficiency);
      // the scheduler is each runtime's own: vLLM's mechanism prior, not SGLang's fit
      expect(calibrated(vllm, "decode_step_host_ms")).toBe(1.5);
    });
    const noLlamaCpp = fitCalibration(prepared.filter((p) => engineProfile(p.workload.engine).kernels !== "llama.cpp"), "without llama.cpp");
    expect(withCalibration(noLlamaCpp, () => calibrated(engineProfile("llama.cpp"), "train_efficiency"))).toBe(prior("train_efficiency"));
  });

  it("torchtune's packed A100 rows held out: tokens/s within 30 % (with the 0.45 prior they were 35-43 % low)", () => {
    for (const id of ["M008", "M011", "M014", "M015"]) {
      const p = prepared.find((x) => x.c.id === id)!;
      const t = withCalibration(withoutTorchtune, () => predictTokensPerS(p))!;
      expect(Math.abs(t - p.c.tokensPerS!) / p.c.tokensPerS!, id).toBeLessThanOrEqual(0.3);
    }
  });
});
