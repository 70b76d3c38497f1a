// Shared CLI options: workload flags -> WorkloadInput, and strict number parsing with one-line errors.
import type { Command } from "commander";
import { FitlabInputError } from "../errors.js";
import type { WorkloadInput } from "../workload/resolve.js";
import { WORKLOAD_KINDS, type WorkloadKind } from "../workload/types.js";

export const DEFAULT_GPU = "GeForce RTX 5060 Ti 16GB";
export const DEFAULT_MODEL = "Qwen/Qwen2.5-7B";

export function intArg(name: string, value: string | undefined, min = 1, max = 1e9): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new FitlabInputError(`${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new FitlabInputError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function numArg(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new FitlabInputError(`${name} must be a number, got "${value}"`);
  if (n < min || n > max) throw new FitlabInputError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function addWorkloadOptions(cmd: Command): Command {
  return cmd
    .option("--model <name|path>", "built-in model name, hub id (fetched once), config.json, local model folder or .gguf file", DEFAULT_MODEL)
    .option("--workload <kind>", `one of ${WORKLOAD_KINDS.join(", ")} (default qlora; inference_decode for a .gguf model)`)
    .option("--gpu <name>", "GPU name from `fitlab gpus`", DEFAULT_GPU)
    .option("--gpu-file <yaml>", "extra or overriding GPUs (same schema as data/gpus.yaml)")
    .option("--seq <tokens>", "tokens per sequence (inference: prompt + generated)")
    .option("--batch <n>", "sequences per micro-batch per GPU")
    .option("--grad-accum <n>", "gradient accumulation steps")
    .option("--no-packed", "sequences are capped, not packed (the peak follows the longest batch)")
    .option("--mean-tokens <n>", "unpacked data: average tokens per example (sets the tokens a step processes, not the peak)")
    .option("--length-grouped", "unpacked data: batches grouped by length (group_by_length), padded to their own examples")
    .option("--rank <r>", "LoRA rank")
    .option("--alpha <a>", "LoRA alpha")
    .option("--targets <list>", "LoRA targets: qv, qkv, qkvo, all-linear, or q_proj+v_proj...")
    .option("--dropout <p>", "LoRA dropout")
    .option("--quant <q>", "none, bnb-nf4, bnb-nf4-dq, bnb-fp4, bnb-int8, gptq-int4, gptq-int8, awq-int4, fp8, torchao-nf4, gguf-<TYPE> (default: the model's stored format)")
    .option("--dtype <d>", "bf16, fp16 or fp32")
    .option("--optimizer <o>", "adamw, adamw-fused, adamw8bit, paged-adamw8bit, paged-adamw32bit, adafactor, sgd")
    .option("--optimizer-in-backward", "fuse the optimizer step into backward (torchtune optimizer_in_bwd)")
    .option("--grad-ckpt <mode>", "none, full, selective or offload")
    .option("--attn <impl>", "eager, sdpa, flash2 or flex")
    .option("--loss <impl>", "standard, chunked or fused-linear-ce")
    .option("--loss-chunk <tokens>", "chunked loss: tokens per chunk (fitlab-worker keeps one chunk live; default 256)")
    .option("--kernels <k>", "none or liger (fused RMSNorm/RoPE/SwiGLU)")
    .option("--compile", "torch.compile")
    .option("--engine <profile>", "engine profile: hf-peft, hf-trl, unsloth, torchtune, ms-swift, llama.cpp, vllm, ...")
    .option("--engine-version <text>", 'library versions, e.g. "transformers 4.48.1; bitsandbytes 0.45"')
    .option("--gpus <n>", "number of GPUs (memory figures are per GPU)")
    .option("--parallel <p>", "split over the GPUs: ddp, fsdp, fsdp-hybrid, zero1, zero2, zero2-offload, zero3, zero3-offload (training); tp, pp, device-map (inference)")
    .option("--sharding <s>", "the same as --parallel")
    .option("--gpus-per-node <n>", "GPUs per node (the shard group of fsdp-hybrid)")
    .option("--precision <p>", "full fine-tuning: pure (bf16 states) or mixed (fp32 master weights)")
    .option("--offload <o>", "none, optimizer or optimizer+params (CPU offload)")
    .option("--prompt <tokens>", "inference: prompt tokens")
    .option("--new-tokens <n>", "inference: generated tokens")
    .option("--capture <mode>", "attention extraction: all-layers or per-layer")
    .option("--probe-samples <n>", "probe: cached feature rows")
    .option("--probe-features <n>", "probe: feature width (default: model hidden size)")
    .option("--probe-classes <n>", "probe: classes");
}

export type WorkloadFlags = Record<string, string | boolean | undefined>;

export function workloadInputFromFlags(o: WorkloadFlags): WorkloadInput {
  const s = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
  const model = s("model") ?? "";
  const kind = s("workload") ?? (model.toLowerCase().endsWith(".gguf") ? "inference_decode" : "qlora");
  if (!(WORKLOAD_KINDS as readonly string[]).includes(kind)) throw new FitlabInputError(`unknown workload "${kind}"; use ${WORKLOAD_KINDS.join(", ")}`);
  const input: WorkloadInput = { kind: kind as WorkloadKind };
  const set = <K extends keyof WorkloadInput>(k: K, v: WorkloadInput[K] | undefined) => {
    if (v !== undefined) input[k] = v;
  };
  set("seq", intArg("--seq", s("seq"), 1, 10_000_000));
  set("batch", intArg("--batch", s("batch"), 1, 65_536));
  set("gradAccum", intArg("--grad-accum", s("gradAccum"), 1, 1_000_000));
  set("rank", intArg("--rank", s("rank"), 1, 65_536));
  set("alpha", numArg("--alpha", s("alpha"), 0.001, 1e6));
  set("dropout", numArg("--dropout", s("dropout"), 0, 0.99));
  set("targets", s("targets"));
  set("quant", s("quant"));
  set("dtype", s("dtype") as WorkloadInput["dtype"]);
  set("optimizer", s("optimizer") as WorkloadInput["optimizer"]);
  set("gradCkpt", s("gradCkpt") as WorkloadInput["gradCkpt"]);
  set("attn", s("attn") as WorkloadInput["attn"]);
  set("loss", s("loss") as WorkloadInput["loss"]);
  set("lossChunkTokens", intArg("--loss-chunk", s("lossChunk"), 1, 10_000_000));
  set("kernels", s("kernels") as WorkloadInput["kernels"]);
  set("engine", s("engine"));
  set("engineVersion", s("engineVersion"));
  set("nGpus", intArg("--gpus", s("gpus"), 1, 4096));
  set("sharding", s("sharding") as WorkloadInput["sharding"]);
  set("parallel", s("parallel") as WorkloadInput["parallel"]);
  set("gpusPerNode", intArg("--gpus-per-node", s("gpusPerNode"), 1, 4096));
  set("precision", s("precision") as WorkloadInput["precision"]);
  set("offload", s("offload") as WorkloadInput["offload"]);
  set("promptTokens", intArg("--prompt", s("prompt"), 0, 10_000_000));
  set("newTokens", intArg("--new-tokens", s("newTokens"), 0, 10_000_000));
  set("attentionCapture", s("capture") as WorkloadInput["attentionCapture"]);
  set("probeSamples", intArg("--probe-samples", s("probeSamples"), 0, 1e9));
  set("probeFeatures", intArg("--probe-features", s("probeFeatures"), 0, 1e6));
  set("probeClasses", intArg("--probe-classes", s("probeClasses"), 1, 1e6));
  set("meanTokens", intArg("--mean-tokens", s("meanTokens"), 1, 10_000_000));
  if (o.packed === false) input.packed = false;
  if (o.lengthGrouped === true) input.lengthGrouped = true;
  if (o.optimizerInBackward === true) input.optimizerInBackward = true;
  if (o.compile === true) input.compile = true;
  return input;
}
