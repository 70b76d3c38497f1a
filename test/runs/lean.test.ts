// The lean runner on the CPU: chunked loss = HF's loss and gradients, packed rows = examples alone, the loss
// step's memory against the planner's fitlab-worker term, offloaded checkpointing against the planner's
// checkpoint bytes, the automatic choices, and a pairwise covering set of option combinations that must
// each halve the tiny model's eval loss. Measurements come from the real worker code (test/runs/lean_checks.py).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { engineProfile } from "../../src/engines/profile.js";
import { activationMemory } from "../../src/memory/activations.js";
import { makeContext } from "../../src/memory/context.js";
import { estimateMemory } from "../../src/memory/estimate.js";
import { ENGINE_DIR, venvPython, workerReady } from "../../src/runs/env.js";
import { runJob } from "../../src/runs/worker.js";
import { resolveModel } from "../../src/spec/catalog.js";
import { resolveWorkload } from "../../src/workload/resolve.js";

const BIN = fileURLToPath(new URL("../../bin/fitlab.js", import.meta.url));
const DEMO = fileURLToPath(new URL("../../data/demo/", import.meta.url));
const CHECKS = fileURLToPath(new URL("./lean_checks.py", import.meta.url));
const ready = workerReady();
if (!ready && process.env.CI) throw new Error("CI must run `npx fitlab engine setup` before the tests (see .ci/run)");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-lean-"));
const qwen = path.join(tmp, "tiny-qwen2");
const llama = path.join(tmp, "tiny-llama");
// a head-heavy shape for the loss-step memory: logits dominate, as in a 7B model (vocab 152k, hidden 3.5k)
const HEAD = { tokens: 1024, hidden: 64, vocab: 16384 };
const CHUNKS = [1, 2, 4, 8, 16];

interface Checks {
  equivalence: Record<"full" | "lora", Record<string, { loss_diff: number; grad_diff: number; grads: number; grad_scale: number }>>;
  packing: Record<"sdpa" | "eager", { examples: number; rows_with_several_examples: number; max_diff: number; contaminated_max_diff: number }>;
  memory: { tokens: number; hidden: number; vocab: number; chunk: number; dtype: string; peak_bytes: number }[];
  offload: Record<"none" | "full" | "offload", { loss_diff: number; grad_diff: number; offloaded_bytes: number | null }>;
  choices: Record<string, [string, string] | string>;
  optimizer_resume: Record<string, { identical: boolean; moment_dtypes: string[] }>;
}
let checks: Checks;

beforeAll(async () => {
  if (!ready) return;
  const words = JSON.parse(fs.readFileSync(path.join(DEMO, "words.json"), "utf8"));
  await runJob("make_tiny", { out_dir: qwen, arch: "qwen2", words });
  await runJob("make_tiny", { out_dir: llama, arch: "llama", words });
}, 120_000);

describe.runIf(ready)("the lean runner's mechanisms, measured on the CPU", () => {
  beforeAll(async () => {
    const memory = [...CHUNKS.map((c) => [HEAD.tokens, HEAD.hidden, HEAD.vocab, HEAD.tokens / c, "float32"]), ...[1, 4].map((c) => [HEAD.tokens, HEAD.hidden, HEAD.vocab, HEAD.tokens / c, "bfloat16"])];
    const r = spawnSync(venvPython(), [CHECKS, JSON.stringify({ qwen, llama, data: path.join(DEMO, "prompt-completion.jsonl"), memory })], {
      encoding: "utf8",
      env: { ...process.env, PYTHONPATH: ENGINE_DIR },
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0) throw new Error(`lean_checks.py failed: ${r.stderr.split("\n").slice(-8).join("\n")}`);
    checks = JSON.parse(r.stdout) as Checks;
  }, 600_000);

  it("chunked cross-entropy equals HF's loss and every gradient within 1e-5 (fp32; full and LoRA, padded and packed, 7-token and whole chunks)", () => {
    for (const method of ["full", "lora"] as const) {
      const cases = Object.entries(checks.equivalence[method]);
      expect(cases).toHaveLength(4);
      for (const [, c] of cases) {
        expect(c.grads).toBeGreaterThan(0);
        expect(c.grad_scale).toBeGreaterThan(1e-3); // the gradients compared are not all zero
        expect(c.loss_diff).toBeLessThan(1e-5);
        expect(c.grad_diff).toBeLessThan(1e-5);
      }
    }
  });

  it("a packed row gives every example the loss it has alone, within 1e-5 (sdpa and eager); positions that run on across examples do not", () => {
    for (const attn of ["sdpa", "eager"] as const) {
      const p = checks.packing[attn];
      expect(p.examples).toBe(16);
      expect(p.rows_with_several_examples).toBeGreaterThan(0);
      expect(p.max_diff).toBeLessThan(1e-5);
      expect(p.contaminated_max_diff).toBeGreaterThan(1e-2); // the check can tell contamination apart
    }
  });

  it("the loss step's peak falls with the chunk count as the planner's fitlab-worker term predicts (within 2%)", () => {
    const dir = path.join(tmp, "head-heavy");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "config.json"),
      JSON.stringify({ architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: HEAD.hidden, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: HEAD.vocab, max_position_embeddings: 4096, tie_word_embeddings: false }),
    );
    const spec = resolveModel(path.join(dir, "config.json"));
    const peaks: number[] = [];
    for (const m of checks.memory) {
      const w = resolveWorkload({ kind: "lora", seq: m.tokens, batch: 1, dtype: m.dtype === "float32" ? "fp32" : "bf16", loss: "chunked", lossChunkTokens: m.chunk, engine: "fitlab-worker", gradCkpt: "none" });
      const predicted = estimateMemory(spec, w).components.logits_and_loss;
      expect(Math.abs(m.peak_bytes - predicted) / m.peak_bytes, `${m.dtype} chunk ${m.chunk}: measured ${m.peak_bytes}, planner ${predicted}`).toBeLessThan(0.02);
      if (m.dtype === "float32") peaks.push(m.peak_bytes);
    }
    // each doubling of the chunk count roughly halves the peak (the hidden-state copy and gradient stay)
    for (let i = 1; i < peaks.length; i++) expect(peaks[i]! / peaks[i - 1]!).toBeLessThan(0.56);
    expect(peaks[0]! / peaks.at(-1)!).toBeGreaterThan(12);
  });

  it("offloaded checkpointing moves exactly the layer inputs the planner keeps for full checkpointing, and changes no loss or gradient", () => {
    for (const mode of ["full", "offload"] as const) {
      expect(checks.offload[mode].loss_diff).toBeLessThan(1e-6);
      expect(checks.offload[mode].grad_diff).toBeLessThan(1e-6);
    }
    // lean_checks.py: one row of 24 tokens through the tiny Qwen2 in fp32, full fine-tuning
    const w = resolveWorkload({ kind: "full", seq: 24, batch: 1, dtype: "fp32", gradCkpt: "full", engine: "fitlab-worker", packed: false, loss: "chunked" });
    const kept = activationMemory(makeContext(resolveModel(qwen), w, engineProfile("fitlab-worker"))).atLossBytes;
    expect(checks.offload.offload.offloaded_bytes).toBe(kept);
    expect(checks.offload.full.offloaded_bytes).toBeNull();
  });

  it("every optimizer resumes from a safetensors checkpoint to the very same next step; the 8-bit ones keep uint8 moments", () => {
    for (const name of ["adamw", "adamw-fused", "adamw8bit", "paged-adamw8bit"]) {
      expect(checks.optimizer_resume[name]!.identical, name).toBe(true);
      expect(checks.optimizer_resume[name]!.moment_dtypes).toEqual([name.includes("8bit") ? "torch.uint8" : "torch.float32"]);
    }
  });

  it("chooses the fused loss and Liger kernels only where CUDA, Triton and Liger allow (sm_120 included), and says why otherwise", () => {
    const c = checks.choices;
    expect(c.cpu).toEqual(["chunked", expect.stringMatching(/no CUDA GPU/)]);
    expect(c.blackwell_sm120).toEqual(["fused", expect.stringMatching(/Liger 0\.8\.5 .*CUDA 12\.0/)]);
    expect(c.turing_bf16).toEqual(["chunked", expect.stringMatching(/bf16 kernels need compute capability 8\.0/)]);
    expect(c.no_liger).toEqual(["chunked", expect.stringMatching(/liger-kernel is not installed/)]);
    expect(c.adapter_on_head).toEqual(["chunked", expect.stringMatching(/lm_head carries an adapter/)]);
    expect(c.other_arch).toEqual(["standard", expect.stringMatching(/not lm_head\(hidden\) alone/)]);
    expect(c.fused_on_cpu).toMatch(/^needs_gpu: --loss fused is unavailable here: no CUDA GPU/);
    expect(c.kernels_cpu).toEqual(["none", expect.stringMatching(/no CUDA GPU/)]);
    expect(c.kernels_blackwell).toEqual(["liger", expect.stringMatching(/RMSNorm\/RoPE\/SwiGLU/)]);
  });
});

// Pairwise covering set: every pair of values of (method, loss, checkpointing, packing, optimizer) appears in at
// least one run (checked below), plus torch.compile twice. 14 runs instead of the 216 of the full product.
const METHODS = ["lora", "full", "qlora"] as const;
const LOSSES = ["standard", "chunked", "auto"] as const;
const CKPTS = ["none", "full", "offload"] as const;
const OPTIMIZERS = ["adamw", "adamw-fused", "adamw8bit", "paged-adamw8bit"] as const;
interface Combo {
  method: (typeof METHODS)[number];
  loss: (typeof LOSSES)[number];
  ckpt: (typeof CKPTS)[number];
  packing: boolean;
  optimizer: (typeof OPTIMIZERS)[number];
  compile: boolean;
}
const COMBOS: Combo[] = [];
for (let o = 0; o < 4; o++) {
  for (let l = 0; l < 3; l++) {
    COMBOS.push({ method: METHODS[(o + l) % 3]!, loss: LOSSES[l]!, ckpt: CKPTS[(o + 2 * l) % 3]!, packing: (o + l) % 2 === 1, optimizer: OPTIMIZERS[o]!, compile: false });
  }
}
COMBOS.push({ method: "lora", loss: "chunked", ckpt: "offload", packing: true, optimizer: "adamw8bit", compile: true });
COMBOS.push({ method: "full", loss: "standard", ckpt: "none", packing: false, optimizer: "adamw-fused", compile: true });

/** dtypes of the optimizer state tensors ("state.*"; the file also holds the RNG state as uint8) in a
 *  safetensors header (8-byte little-endian length, then JSON) */
function safetensorsDtypes(file: string): Set<string> {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8")) as Record<string, { dtype?: string }>;
  return new Set(Object.entries(header).filter(([k]) => k.startsWith("state.")).map(([, v]) => v.dtype).filter((d): d is string => typeof d === "string"));
}

describe("the option combinations", () => {
  it("cover every pair of option values", () => {
    const factors: [keyof Combo, readonly unknown[]][] = [["method", METHODS], ["loss", LOSSES], ["ckpt", CKPTS], ["packing", [false, true]], ["optimizer", OPTIMIZERS]];
    for (let a = 0; a < factors.length; a++) {
      for (let b = a + 1; b < factors.length; b++) {
        const [ka, va] = factors[a]!;
        const [kb, vb] = factors[b]!;
        for (const x of va) for (const y of vb) expect(COMBOS.some((c) => c[ka] === x && c[kb] === y), `${String(ka)}=${String(x)} with ${String(kb)}=${String(y)}`).toBe(true);
      }
    }
  });

  for (const c of COMBOS) {
    const label = `${c.method}, loss ${c.loss}, checkpointing ${c.ckpt}, ${c.packing ? "packed" : "unpacked"}, ${c.optimizer}${c.compile ? ", compiled" : ""}`;
    it.runIf(ready)(`${label}: trains the tiny model, halves its eval loss, and records what ran`, () => {
      const runs = path.join(tmp, `runs-${COMBOS.indexOf(c)}`);
      const model = c.method === "qlora" ? llama : qwen; // bitsandbytes trains 4-bit layers without bias on the CPU
      const args = ["run", "--model", model, "--method", c.method, "--data", path.join(DEMO, "train.jsonl"), "--lr", c.method === "full" ? "0.003" : "0.01", "--batch", "8", "--seq", "32", "--steps", "30", "--eval-every", "30", "--checkpoint-every", "30", "--device", "cpu", "--json", "--runs", runs];
      args.push("--loss", c.loss, "--grad-ckpt", c.ckpt, "--optimizer", c.optimizer);
      if (c.loss !== "standard") args.push("--loss-chunk", "64"); // only the chunked loss has a chunk
      if (c.packing) args.push("--packing");
      if (c.compile) args.push("--compile");
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const run = JSON.parse(r.stdout).runs[0];
      expect(run.status).toBe("done");
      expect(run.eval_loss.final).toBeLessThanOrEqual(run.eval_loss.initial / 2);
      const rt = run.runtime;
      expect(rt.loss).toBe(c.loss === "auto" ? "chunked" : c.loss);
      expect(rt.gradient_checkpointing).toBe(c.ckpt);
      expect(rt.packing).toBe(c.packing);
      expect(rt.optimizer).toBe(c.optimizer);
      expect(rt.compile).toBe(c.compile);
      expect(rt.kernels).toBe("none");
      if (c.optimizer === "paged-adamw8bit") expect(rt.optimizer_note).toMatch(/pages optimizer state only on CUDA/);
      if (c.packing) expect(rt.packing_fill).toBeGreaterThan(0.8);
      // 8-bit AdamW keeps uint8 moments for tensors of 4,096 elements or more (bitsandbytes min_8bit_size): the
      // full fine-tune's MLP weights (64 x 128); the tiny model's LoRA matrices are smaller and stay 32-bit
      const header = safetensorsDtypes(path.join(run.dir, "checkpoint-30", "optimizer.safetensors"));
      const eightBit = c.optimizer === "adamw8bit" || c.optimizer === "paged-adamw8bit";
      expect(header.has("U8")).toBe(eightBit && c.method === "full");
      const metrics = fs.readFileSync(path.join(run.dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      const trains = metrics.filter((m) => m.type === "train");
      expect(trains).toHaveLength(30);
      if (c.ckpt === "offload") for (const m of trains) expect(m.offloaded_bytes).toBeGreaterThan(0);
    }, 600_000);
  }
});

describe.runIf(ready)("the GPU bench's CPU smoke mode (bench/lean_vs_trl.py --smoke)", () => {
  it("runs the same tiny QLoRA through TRL SFTTrainer + PEFT and through the worker, and writes what each ran", () => {
    const out = path.join(tmp, "bench-smoke");
    const bench = fileURLToPath(new URL("../../bench/lean_vs_trl.py", import.meta.url));
    const r = spawnSync(venvPython(), [bench, "--smoke", out], { encoding: "utf8", timeout: 900_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const result = JSON.parse(fs.readFileSync(path.join(out, "lean-vs-trl.json"), "utf8"));
    expect(result.rows.map((x: { id: string }) => x.id)).toEqual(["trl-64", "worker-64", "worker-offload-64"]);
    for (const row of result.rows) {
      expect(row.error).toBeUndefined();
      expect(row.measured.tokens_per_s).toBeGreaterThan(0);
      // a random 300-word model starts near ln(300) = 5.70 nats in both runners
      expect(Math.abs(row.measured.final_train_loss - Math.log(300))).toBeLessThan(0.5);
    }
    expect(result.rows[0].measured.runtime.trl).toBe("1.16.0");
    expect(result.rows[1].measured.runtime).toMatchObject({ loss: "chunked", gradient_checkpointing: "full", optimizer: "adamw" });
    expect(result.rows[2].measured.runtime).toMatchObject({ loss: "chunked", gradient_checkpointing: "offload", optimizer: "paged-adamw8bit" });
  }, 900_000);
});
