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

/** A Hugging Face dataset by id: which config and split, which rows (all, the first N, or a seeded sample
 *  sized to the experiment's data.tokens), and which columns are the prompt/completion/text/messages. */
export const hubDatasetSchema = z
  .object({
    hub: z.string().regex(/^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/, "a Hugging Face dataset id: owner/name"),
    config: z.string().optional(),
    split: z.string().optional(),
    revision: z.string().optional(),
    fields: z.record(z.string(), z.string()).optional(),
    select: z.enum(["all", "first", "sample"]).optional(),
    examples: z.number().int().positive().optional(),
    tokens: z.number().int().positive().optional(),
    eval_split: z.string().optional(),
    eval_examples: z.number().int().positive().optional(),
    eval_fraction: z.number().gt(0).lt(1).optional(),
  })
  .strict();

export const localDatasetSchema = z.object({ train: z.string(), eval: z.string().optional(), eval_fraction: z.number().gt(0).lt(1).optional() }).strict();

/** A JSONL path or a hub id as a string, or either as an object. */
export const datasetSchema = z.union([z.string().min(1), localDatasetSchema, hubDatasetSchema]);

/** Text for perplexity or items for multiple choice: a local file, or a hub dataset (split, column, size). */
export const evalDataSchema = z.union([
  z.string().min(1),
  z
    .object({
      hub: z.string().regex(/^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/, "a Hugging Face dataset id: owner/name"),
      config: z.string().optional(),
      split: z.string().optional(),
      revision: z.string().optional(),
      field: z.string().optional(),
      fields: z.record(z.string(), z.string()).optional(),
      limit: z.number().int().positive().optional(),
      max_chars: z.number().int().positive().optional(),
    })
    .strict(),
]);

const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

/** Prompts of an attention or hidden-state inspection from a hub text set (e.g. WikiText): each non-empty row a
 *  prompt, or consecutive rows joined into prompts of at least min_tokens; the first N or a seeded sample
 *  (examples: default the experiment's data.prompts). */
export const hubPromptsSchema = z
  .object({
    hub: z.string().regex(HUB_ID, "a Hugging Face dataset id: owner/name"),
    config: z.string().optional(),
    split: z.string().optional(),
    revision: z.string().optional(),
    field: z.string().optional(),
    select: z.enum(["first", "sample"]).optional(),
    examples: z.number().int().positive().max(1e8).optional(),
    min_tokens: z.number().int().positive().max(1e7).optional(),
  })
  .strict();

/** Labelled probe data from a hub set: sentence-level {text, label} (e.g. SST-2) or token-level {tokens, labels}
 *  (e.g. CoNLL-2003 pos_tags), class ids named by the set's ClassLabel; examples: default the workload's probeSamples. */
export const hubProbeDataSchema = z
  .object({
    hub: z.string().regex(HUB_ID, "a Hugging Face dataset id: owner/name"),
    config: z.string().optional(),
    split: z.string().optional(),
    revision: z.string().optional(),
    fields: z.record(z.string(), z.string()).optional(),
    select: z.enum(["first", "sample"]).optional(),
    examples: z.number().int().positive().max(1e8).optional(),
  })
  .strict();

/** How `fitlab run` runs an experiment for real: data and optimisation settings (paths relative to the plan). */
export const runSchema = z
  .object({
    model: z.string().optional(),
    /** a branch, tag or commit of a hub model (default main); the run records the commit it resolved to */
    model_revision: z.string().optional(),
    dataset: datasetSchema.optional(),
    /** evaluation and inspection experiments: the training experiment whose newest finished run is read (forgetting:
     *  base and each checkpoint; compare and hidden: its adapter; probe: every checkpoint) */
    adapter_from: z.string().optional(),
    learning_rate: z.number().positive().max(10).optional(),
    schedule: z.enum(["linear", "cosine", "constant"]).optional(),
    warmup_steps: z.number().int().min(0).optional(),
    max_steps: z.number().int().positive().optional(),
    epochs: z.number().positive().max(1000).optional(),
    eval_every: z.number().int().positive().optional(),
    checkpoint_every: z.number().int().positive().optional(),
    seed: z.number().int().min(0).optional(),
    device: z.enum(["auto", "cpu", "cuda"]).optional(),
    general_text: evalDataSchema.optional(),
    multiple_choice: evalDataSchema.optional(),
    // Tracks B and C (`fitlab inspect`): prompts for attention/hidden, an adapter folder or training run id,
    // labelled probe data, a training run whose checkpoints a probe follows, and which inspection to run
    prompts: z.union([z.string().min(1), hubPromptsSchema]).optional(),
    adapter: z.string().optional(),
    probe_data: z.union([z.string().min(1), hubProbeDataSchema]).optional(),
    probe_run: z.string().optional(),
    inspect: z.enum(["attention", "compare", "hidden", "probe"]).optional(),
    // the worker's lean options (fitlab run --packing/--loss/--loss-chunk/--grad-ckpt/--optimizer/--kernels/--compile)
    packing: z.boolean().optional(),
    loss: z.enum(["auto", "standard", "chunked", "fused"]).optional(),
    loss_chunk_tokens: z.number().int().positive().max(1_000_000).optional(),
    grad_ckpt: z.enum(["none", "full", "offload"]).optional(),
    optimizer: z.enum(["adamw", "adamw-fused", "adamw8bit", "paged-adamw8bit"]).optional(),
    kernels: z.enum(["auto", "none", "liger"]).optional(),
    compile: z.boolean().optional(),
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
    /** what doing it would teach or change (the decision document's impact column for stretch work) */
    impact: z.string().optional(),
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
    /** what the lab is for, in one sentence (the decision's qualitative rationale) */
    goal: z.string().optional(),
    tracks: z.array(trackSchema).min(1),
  })
  .strict();

export type RawPlan = z.infer<typeof planSchema>;
export type RawExperiment = z.infer<typeof experimentSchema>;
export type RawRun = z.infer<typeof runSchema>;
export type RawHubDataset = z.infer<typeof hubDatasetSchema>;
export type RawEvalData = z.infer<typeof evalDataSchema>;
export type HubPrompts = z.infer<typeof hubPromptsSchema>;
export type HubProbeData = z.infer<typeof hubProbeDataSchema>;
