// Every limit fitlab puts on what it reads, in one place, each with the reason for its size. A file or a
// structure above a limit is refused at once, with the limit named, before any slow work is done.

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const LIMITS = {
  /** config.json: real ones are under 100 KB (the largest multimodal configs are ~50 KB) */
  configBytes: 4 * MiB,
  /** model.safetensors.index.json: DeepSeek-V3's, one of the largest, is ~9 MB */
  indexBytes: 64 * MiB,
  /** tensors in one index or header: DeepSeek-V3 (unfused experts) has ~92k; 4x that */
  tensors: 400_000,
  /** safetensors header JSON (the safetensors crate's own limit: MAX_HEADER_SIZE = 100_000_000) */
  safetensorsHeaderBytes: 100_000_000,
  /** GGUF metadata key/values: a llama.cpp file has ~40 plus the tokenizer arrays */
  ggufKeyValues: 65_536,
  /** GGUF tensors (same reasoning as `tensors`) */
  ggufTensors: 400_000,
  /** GGUF arrays nested in arrays: llama.cpp writes none; a few levels are tolerated */
  ggufArrayDepth: 4,
  /** one GGUF string (a key, a chat template): templates are a few KB */
  ggufStringBytes: 16 * MiB,
  /** a data file (prices, GPU catalog, engine profiles, calibration, sustained rates): the built-in GPU catalog is ~60 KB */
  dataFileBytes: 8 * MiB,
  /** the user's calibration.json and the hub cache's small JSON files: a few KB each */
  smallJsonBytes: 4 * MiB,
  /** a cases CSV for \`fitlab validate\`: the public one is ~60 KB */
  casesBytes: 64 * MiB,
  /** rows of a cases CSV */
  casesRows: 100_000,
  /** a prompt file or probe data for \`fitlab inspect\` (read whole by the worker) */
  inspectInputBytes: 256 * MiB,
  /** one prompt or probe example: a 128k-token text is ~0.5 MB */
  inspectLineBytes: 4 * MiB,
  /** a lab plan: the built-in one is ~5 KB */
  planBytes: 1 * MiB,
  /** YAML alias expansions in a plan (the yaml library's own default; an alias bomb needs millions) */
  yamlAliases: 100,
  /** nesting of maps and lists in a plan or JSON file: a plan needs 8 levels */
  nesting: 32,
  /** experiments in one plan, and runs they expand to (sweep values x repetitions) */
  planExperiments: 500,
  planRuns: 10_000,
  /** a training or evaluation dataset (JSONL, checked line by line before the worker starts) */
  datasetBytes: 8 * GiB,
  /** one JSONL record: a 128k-token chat is ~1 MB */
  datasetLineBytes: 64 * MiB,
  /** general-text file for perplexity (the worker reads it whole) */
  generalTextBytes: 1 * GiB,
  /** multiple-choice JSONL */
  multipleChoiceBytes: 256 * MiB,
} as const;

/** "4 MiB", "1 GiB": limits as people read them. */
export function formatLimit(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  return `${bytes.toLocaleString("en-US")} bytes`;
}

/** A file's size for a message: "52.4 MiB". */
export function formatSize(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${bytes.toLocaleString("en-US")} bytes`;
}
