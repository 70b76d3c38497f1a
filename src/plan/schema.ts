// Lab-plan format (YAML): tracks -> experiments. An experiment names a workload exactly as the planner
// takes it, its data size, its repetitions (a sweep or a run count) and whether the runs may overlap.
import { z } from "zod";

export const dataSchema = z
  .object({
    tokens: z.number().int().positive().max(1e13).optional(),
    epochs: z.number().positive().max(1000).optional(),
    prompts: z.number().int().positive().max(1e10).optional(),
  })
  .strict();

export const sweepSchema = z
  .object({
    param: z.string().min(1),
    values: z.array(z.union([z.number(), z.string()])).min(1).max(1000),
  })
  .strict();

/** How `fitlab run` runs an experiment for real: data and optimisation settings (paths relative to the plan). */
export const runSchema = z
  .object({
    model: z.string().optional(),
    dataset: z.object({ train: z.string(), eval: z.string().optional(), eval_fraction: z.number().gt(0).lt(1).optional() }).strict(),
    learning_rate: z.number().positive().max(10).optional(),
    schedule: z.enum(["linear", "cosine", "constant"]).optional(),
    warmup_steps: z.number().int().min(0).optional(),
    max_steps: z.number().int().positive().optional(),
    epochs: z.number().positive().max(1000).optional(),
    eval_every: z.number().int().positive().optional(),
    checkpoint_every: z.number().int().positive().optional(),
    seed: z.number().int().min(0).optional(),
    device: z.enum(["auto", "cpu", "cuda"]).optional(),
    // the worker's lean options (fitlab run --packing/--loss/--loss-chunk/--grad-ckpt/--optimizer/--kernels/--compile)
    packing: z.boolean().optional(),
    loss: z.enum(["auto", "standard", "chunked", "fused"]).optional(),
    loss_chunk_tokens: z.number().int().positive().max(1_000_000).optional(),
    grad_ckpt: z.enum(["none", "full", "offload"]).optional(),
    optimizer: z.enum(["adamw", "adamw-fused", "adamw8bit", "paged-adamw8bit"]).optional(),
    kernels: z.enum(["auto", "none", "liger"]).optional(),
    compile: z.boolean().optional(),
    general_text: z.string().optional(),
    multiple_choice: z.string().optional(),
  })
  .strict();

export const experimentSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][\w.-]*$/, "use letters, digits, '.', '-' or '_'"),
    title: z.string().optional(),
    model: z.string().optional(),
    workload: z.record(z.string(), z.unknown()).optional(),
    data: dataSchema.optional(),
    runs: z.number().int().positive().max(10000).optional(),
    sweep: sweepSchema.optional(),
    parallel: z.boolean().optional(),
    cpu: z.boolean().optional(),
    cpu_hours: z.number().min(0).max(1e5).optional(),
    note: z.string().optional(),
    run: runSchema.optional(),
  })
  .strict();

export const trackSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    stretch: z.boolean().optional(),
    experiments: z.array(experimentSchema).min(1),
  })
  .strict();

export const planSchema = z
  .object({
    fitlab_plan: z.literal(1),
    name: z.string().min(1),
    current_gpu: z.string().optional(),
    cycle_months: z.number().positive().max(120).optional(),
    tracks: z.array(trackSchema).min(1),
  })
  .strict();

export type RawPlan = z.infer<typeof planSchema>;
export type RawExperiment = z.infer<typeof experimentSchema>;
export type RawRun = z.infer<typeof runSchema>;
