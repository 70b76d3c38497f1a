// The CLI as a user runs it: the compiled bin, real processes, exit codes and one-line errors.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { expectOneLineError, runCli } from "../helpers.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/cases-public.csv", import.meta.url));

const run = (...args: string[]) => runCli(args);

describe("fitlab estimate", () => {
  it("prints the estimate object the web receives", () => {
    const r = run("estimate", "--model", "Qwen/Qwen2.5-7B", "--workload", "qlora", "--gpu", "GeForce RTX 5060 Ti 16GB", "--seq", "2048", "--batch", "1", "--rank", "16", "--json");
    expect(r.code).toBe(0);
    const e = JSON.parse(r.out);
    for (const k of ["allocated_bytes", "reserved_bytes", "device_bytes", "low_bytes", "high_bytes"]) expect(Number.isInteger(e.peak[k])).toBe(true);
    expect(e.peak.low_bytes).toBeLessThan(e.peak.allocated_bytes);
    expect(e.peak.high_bytes).toBeGreaterThan(e.peak.device_bytes);
    expect(Object.keys(e.components)).toEqual(expect.arrayContaining(["weights", "quant_state", "adapters", "gradients", "optimizer_state", "activations", "logits_and_loss", "kv_cache", "cuda_context", "allocator_margin"]));
    expect(e.fits).toBe(true);
    expect(e.tokens_per_s).toBeGreaterThan(0);
    expect(Array.isArray(e.warnings)).toBe(true);
  });
  it("says full fine-tuning of a 7B model does not fit 16 GB, in words", () => {
    const r = run("estimate", "--workload", "full", "--model", "Qwen/Qwen2.5-7B");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/does NOT fit/);
  });
  const bad: [string, string[], RegExp][] = [
    ["unknown GPU, with the closest names", ["estimate", "--gpu", "RTX 9090"], /unknown GPU "RTX 9090"; closest: .*5090/],
    ["ambiguous GPU", ["estimate", "--gpu", "H100"], /GPU "H100" is ambiguous: it matches NVIDIA H100 80GB SXM5, NVIDIA H100 NVL 94GB, NVIDIA H100 80GB PCIe/],
    ["negative sequence", ["estimate", "--seq", "-4"], /--seq must be between 1/],
    ["absurd batch", ["estimate", "--batch", "999999999"], /--batch must be between 1 and 65536/],
    ["not a number", ["estimate", "--rank", "sixteen"], /--rank must be a whole number/],
    ["unknown model", ["estimate", "--model", "NotAModel-7B"], /unknown model "NotAModel-7B"/],
    ["unknown workload", ["estimate", "--workload", "pretrain"], /unknown workload "pretrain"/],
    ["qlora without quantization", ["estimate", "--workload", "qlora", "--quant", "none"], /qlora needs a quantized base/],
  ];
  for (const [what, args, msg] of bad) {
    it(`rejects ${what} with one line and exit 2`, () => {
      expectOneLineError(run(...args), msg);
    });
  }
  it("rejects a malformed config.json with one line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-"));
    const f = path.join(dir, "config.json");
    fs.writeFileSync(f, "{ not json");
    const r = run("estimate", "--model", f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not valid JSON/);
  });
});

describe("fitlab fit", () => {
  it("finds the cheapest change for full fine-tuning of a 7B model on 16 GB", () => {
    const r = run("fit", "--workload", "full", "--model", "Qwen/Qwen2.5-7B", "--json");
    expect(r.code).toBe(0);
    const f = JSON.parse(r.out);
    expect(f.fits_as_is).toBe(false);
    expect(f.cheapest.changes).toContain("qlora");
    expect(f.max_seq_len).toBeGreaterThan(2048);
  });
});

describe("fitlab validate", () => {
  it("prints the summary object with the requested filter", () => {
    const r = run("validate", FIXTURE, "--trust", "high,medium", "--json");
    expect(r.code).toBe(0);
    const v = JSON.parse(r.out);
    expect(v.cases[0]).toMatchObject({ id: "M001", expressed: true });
    for (const k of ["predicted_gib", "measured_gib", "abs_pct_error", "predicted_tokens_per_s", "measured_tokens_per_s", "predicted_fits", "outcome"]) expect(v.cases[0]).toHaveProperty(k);
    expect(v.summary.memory).toHaveProperty("within_20pct");
    expect(v.summary.fit.n).toBeGreaterThan(0);
    expect(v.cases.every((c: { trust: string }) => c.trust === "high" || c.trust === "medium")).toBe(true);
  });
  it("reports a bad row and an unknown model with reasons instead of dropping them", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-"));
    const f = path.join(dir, "cases.csv");
    const lines = fs.readFileSync(FIXTURE, "utf8").split("\n");
    const header = lines[0]!;
    const good = lines[1]!;
    const badBatch = good.replace(/^M001,/, "X001,").replace(",full,none,bf16,,,,paged-adamw8bit,true,2,", ",full,none,bf16,,,,paged-adamw8bit,true,-2,");
    const unknownModel = good.replace(/^M001,meta-llama\/Llama-3.1-8B-Instruct,/, "X002,acme/Unknown-1B,");
    fs.writeFileSync(f, [header, good, badBatch, unknownModel].join("\n"));
    const r = runCli(["validate", f, "--json"], { HF_ENDPOINT: "http://127.0.0.1:1", FITLAB_HOME: dir });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/skipped X001 \(line 3\): batch_size must be a non-negative number/);
    const v = JSON.parse(r.out);
    const x2 = v.cases.find((c: { id: string }) => c.id === "X002");
    expect(x2.expressed).toBe(false);
    expect(x2.reason).toMatch(/unknown model/);
    expect(v.cases.find((c: { id: string }) => c.id === "X001").expressed).toBe(false);
  });
  it("rejects a file without the case columns", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-"));
    const f = path.join(dir, "x.csv");
    fs.writeFileSync(f, "a,b\n1,2\n");
    const r = run("validate", f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/lacks the columns id, model/);
  });
});

describe("fitlab gpus / models", () => {
  it("lists GPUs with sources as JSON", () => {
    const r = run("gpus", "--json");
    const g = JSON.parse(r.out);
    expect(g.find((x: { name: string }) => x.name === "GeForce RTX 5060 Ti 16GB").specSource).toBeTruthy();
  });
  it("shows a model's parameter breakdown", () => {
    const r = run("models", "Qwen/Qwen2.5-7B", "--json");
    expect(JSON.parse(r.out).params.total).toBe(7_615_616_512);
  });
  it("has --help on every command", () => {
    for (const c of ["estimate", "fit", "validate", "gpus", "models"]) {
      const r = run(c, "--help");
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Usage: fitlab/);
    }
  });
});
