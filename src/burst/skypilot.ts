/**
 * A pure renderer of a SkyPilot task YAML that runs ONE fitlab experiment on a cloud GPU.
 *
 * Field names follow the SkyPilot YAML spec (docs/source/reference/yaml-spec.rst, master, and
 * docs.skypilot.co/en/latest/reference/yaml-spec.html): `name`, `workdir`, `num_nodes`,
 * `resources.{accelerators, use_spot, disk_size, autostop.{idle_minutes, down}, job_recovery}`,
 * `envs`, `secrets`, `file_mounts`, `setup`, `run`. `autostop: {idle_minutes, down: true}` is from reference/auto-stop.html
 * ("Setting autodown"); `job_recovery.max_restarts_on_errors` is from the yaml-spec job_recovery
 * section and only takes effect for managed jobs (`sky jobs launch`). `secrets: {HF_TOKEN: null}` marks a value
 * that must come from `--secret HF_TOKEN` at launch and is redacted in logs (running-jobs/environment-variables.html).
 * Results come back through a bucket mounted with `file_mounts: {PATH: {name: BUCKET, mode: MOUNT}}`
 * (reference/storage.html), copied there when the run ends (SQLite's locking does not work on a FUSE bucket
 * mount, so the run store lives on the local disk), or, without a bucket, with `rsync -Pavz CLUSTER:PATH .`
 * over the SSH alias SkyPilot writes (examples/syncing-code-artifacts.html) before autodown.
 *
 * Nothing here touches the file system or the network: the caller writes the text where it wants.
 */
import { stringify } from "yaml";
import { FitlabInputError } from "../errors.js";

export interface BurstInput {
  /** Plan experiment id, e.g. "A.lr-sweep". */
  experiment: string;
  /** fitlab catalog name, e.g. "NVIDIA A100 80GB SXM4". */
  gpuName: string;
  /** GPUs on the one node, 1..8. */
  gpuCount: number;
  useSpot: boolean;
  /** Boot disk in GB, >= 50. */
  diskGb: number;
  /** e.g. "npx fitlab run A.lr-sweep --plan plan.yaml". */
  fitlabCommand: string;
  /** File to ship with the task, relative to (and inside) the workdir. */
  planFile?: string;
  estimatedHours: number;
  /** Price per GPU per hour. */
  usdPerHour: number;
  /** Autostop after this many idle minutes; default 10 with a bucket, 60 without (time to fetch the results). */
  idleMinutes?: number;
  /** a bucket (SkyPilot storage name) the run folder is copied into when the run ends */
  bucket?: string;
  /** lines for the header: how the run fits the card (tight, the changes it needs), one comment line each */
  notes?: readonly string[];
}

/** Where the run store lives on the cluster, relative to the workdir (~/sky_workdir). */
export const BURST_RUNS_DIR = "runs";
/** Where the bucket is mounted on the cluster. */
export const BURST_BUCKET_MOUNT = "/fitlab-results";

/** Hours as a person reads them: one decimal under 10 h, whole hours above. */
export function roundHours(h: number): string {
  return h >= 10 ? `${Math.round(h)}` : `${Math.max(0.1, Math.round(h * 10) / 10)}`;
}

/**
 * fitlab catalog name -> SkyPilot accelerator name.
 *
 * Names checked against SkyPilot sources: the common names A100, A100-80GB, H100, H200, L40S, L4,
 * T4, A10G (AWS/GCP/Lambda catalogs, `sky show-gpus`), and the RunPod consumer cards RTX3090,
 * RTX4090, RTX5090 (sky/catalog/data_fetchers/fetch_runpod.py: "RTX 4090" -> "RTX4090", no hyphen).
 * Caveats: on RunPod, "A100-80GB" is the PCIe card (the SXM one is "A100-80GB-SXM"), "H100" is the
 * PCIe card (SXM is "H100-SXM") and the H200 is listed as "H200-SXM"; we emit the cross-cloud
 * common names, so the optimizer may pick a PCIe variant there. `sky launch --dryrun` shows what
 * would be chosen.
 */
const ACCELERATORS: Readonly<Record<string, string>> = {
  "NVIDIA A100 80GB SXM4": "A100-80GB",
  "NVIDIA A100 80GB PCIe": "A100-80GB",
  "NVIDIA A100 40GB SXM4": "A100",
  "NVIDIA H100 80GB SXM5": "H100",
  "NVIDIA H100 80GB PCIe": "H100",
  "NVIDIA H200 141GB SXM": "H200",
  "NVIDIA L40S": "L40S",
  "NVIDIA L4": "L4",
  "NVIDIA T4": "T4",
  "NVIDIA A10G (AWS g5)": "A10G",
  "GeForce RTX 4090": "RTX4090",
  "GeForce RTX 3090": "RTX3090",
  "GeForce RTX 5090": "RTX5090",
};

/** The fitlab catalog names that {@link skypilotAccelerator} knows. */
export const SKYPILOT_KNOWN_GPUS: readonly string[] = Object.keys(ACCELERATORS);

export function skypilotAccelerator(gpuName: string): string {
  const acc = Object.prototype.hasOwnProperty.call(ACCELERATORS, gpuName) ? ACCELERATORS[gpuName] : undefined;
  if (acc === undefined) {
    throw new FitlabInputError(
      `no SkyPilot accelerator name known for GPU "${gpuName}"; known: ${SKYPILOT_KNOWN_GPUS.join(", ")}`,
    );
  }
  return acc;
}

const MAX_NAME = 40;

/**
 * A valid SkyPilot cluster name from an experiment id: lowercase, [a-z0-9-], starts with a letter,
 * ends with a letter or digit, at most 40 characters. Prefixed with "fitlab-".
 */
export function skypilotClusterName(experiment: string): string {
  const slug = experiment
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const name = `fitlab-${slug || "task"}`.slice(0, MAX_NAME).replace(/-+$/, "");
  return name;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ").trim();
}

function money(x: number): string {
  return `$${x.toFixed(2)}`;
}

function validate(input: BurstInput): void {
  const bad = (msg: string): never => {
    throw new FitlabInputError(`skypilot task: ${msg}`);
  };
  if (typeof input.experiment !== "string" || input.experiment.trim() === "") bad("experiment id is empty");
  if (typeof input.fitlabCommand !== "string" || input.fitlabCommand.trim() === "") bad("fitlab command is empty");
  if (!Number.isInteger(input.gpuCount) || input.gpuCount < 1 || input.gpuCount > 8) {
    bad(`GPU count must be an integer from 1 to 8, got ${String(input.gpuCount)}`);
  }
  if (!Number.isFinite(input.diskGb) || input.diskGb < 50) bad(`disk must be at least 50 GB, got ${String(input.diskGb)}`);
  if (!Number.isFinite(input.estimatedHours) || input.estimatedHours < 0) {
    bad(`estimated hours must be a number >= 0, got ${String(input.estimatedHours)}`);
  }
  if (!Number.isFinite(input.usdPerHour) || input.usdPerHour < 0) {
    bad(`$/h must be a number >= 0, got ${String(input.usdPerHour)}`);
  }
  if (input.idleMinutes !== undefined && (!Number.isInteger(input.idleMinutes) || input.idleMinutes < 1)) {
    bad(`idle minutes must be an integer >= 1, got ${String(input.idleMinutes)}`);
  }
  if (input.bucket !== undefined && !/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(input.bucket)) {
    bad(`bucket name must be 3-63 lowercase letters, digits, ".", "-" or "_", got "${input.bucket}"`);
  }
  if (input.useSpot && input.bucket === undefined) {
    bad("a managed spot job deletes its cluster when it ends: give a bucket (--bucket NAME) so the run folder survives");
  }
  if (input.planFile !== undefined) {
    const p = input.planFile;
    const parts = p.split(/[\\/]+/);
    if (p.trim() === "" || /^([\\/]|[A-Za-z]:|~)/.test(p) || parts.includes("..") || /[\r\n]/.test(p)) {
      bad(`plan file must be a relative path inside the workdir (no "..", not absolute), got "${p}"`);
    }
  }
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderSkypilotTask(input: BurstInput): string {
  validate(input);
  const accelerator = skypilotAccelerator(input.gpuName);
  const name = skypilotClusterName(input.experiment);
  const idleMinutes = input.idleMinutes ?? (input.bucket ? 10 : 60);
  const diskGb = Math.ceil(input.diskGb);
  const cost = input.estimatedHours * input.usdPerHour * input.gpuCount;

  const resources: Record<string, unknown> = {
    accelerators: `${accelerator}:${input.gpuCount}`,
    use_spot: input.useSpot,
    disk_size: diskGb,
    autostop: { idle_minutes: idleMinutes, down: true },
  };
  if (input.useSpot) {
    // Managed jobs only: restart the job up to twice when the user code exits non-zero
    // (preemptions are recovered regardless of this limit).
    resources.job_recovery = { max_restarts_on_errors: 2 };
  }

  // HF_HOME on the disk the task asked for: model weights are tens of GB
  const envs: Record<string, string> = { FITLAB_EXPERIMENT: input.experiment, HF_HOME: "/tmp/hf", FITLAB_RUNS: BURST_RUNS_DIR };
  if (input.planFile !== undefined) envs.FITLAB_PLAN = input.planFile;

  const setup = [
    "set -euo pipefail",
    "# Node 20+ (NodeSource) if missing or too old.",
    `if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then`,
    "  curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash -",
    "  sudo apt-get install -y nodejs",
    "fi",
    "node --version",
    "# fitlab engine setup needs python3 with venv",
    "python3 -m venv --help >/dev/null 2>&1 || { sudo apt-get update && sudo apt-get install -y python3-venv; }",
    ...(input.planFile !== undefined
      ? [`test -f ${shQuote(input.planFile)} || { echo ${shQuote(`plan file ${input.planFile} not found in the workdir`)} >&2; exit 1; }`]
      : []),
    "# the README's install: the CLI, then the Python worker's venv",
    "npm ci",
    "npx fitlab engine setup",
    "",
  ].join("\n");

  const run = [
    "set -euo pipefail",
    "nvidia-smi || true",
    "npx fitlab doctor || true",
    "status=0",
    `${input.fitlabCommand.trim()} || status=$?`,
    ...(input.bucket !== undefined
      ? [
          "# the run folder (metrics, checkpoints, results, the SQLite index) into the bucket, under the experiment's name",
          `mkdir -p "${BURST_BUCKET_MOUNT}/$FITLAB_EXPERIMENT"`,
          `cp -a "$FITLAB_RUNS/." "${BURST_BUCKET_MOUNT}/$FITLAB_EXPERIMENT/"`,
        ]
      : [`# results stay in ~/sky_workdir/$FITLAB_RUNS until autodown (${idleMinutes} idle minutes): fetch them with`, `#   rsync -Pavz ${name}:~/sky_workdir/${BURST_RUNS_DIR}/ ./${BURST_RUNS_DIR}/`]),
    "exit $status",
    "",
  ].join("\n");

  const task: Record<string, unknown> = {
    name,
    workdir: ".",
    num_nodes: 1,
    resources,
    envs,
    // a Hugging Face token for gated models (Llama, Gemma): sky launch --secret HF_TOKEN
    secrets: { HF_TOKEN: null },
    ...(input.bucket !== undefined ? { file_mounts: { [BURST_BUCKET_MOUNT]: { name: input.bucket, mode: "MOUNT" } } } : {}),
    setup,
    run,
  };

  const body = stringify(task, { lineWidth: 0, blockQuote: "literal" });

  const launch = input.useSpot
    ? [
        `#   sky jobs launch -n ${name} --secret HF_TOKEN task.yaml      # managed spot job: recovers from preemption, cleans up when done`,
        `#   (or an unmanaged cluster: sky launch -c ${name} --secret HF_TOKEN task.yaml)`,
      ]
    : [`#   sky launch -c ${name} --secret HF_TOKEN task.yaml`, `#   sky down ${name}                           # if it is still up afterwards`];
  const results =
    input.bucket !== undefined
      ? [`# Results: copied into bucket ${input.bucket} under ${oneLine(input.experiment)}/ when the run ends (sky storage ls; your cloud's CLI fetches them).`]
      : [`# Results: fetch the run folder before autodown (${idleMinutes} idle minutes):`, `#   rsync -Pavz ${name}:~/sky_workdir/${BURST_RUNS_DIR}/ ./${BURST_RUNS_DIR}/`];

  const header = [
    "# SkyPilot task generated by fitlab: edit freely.",
    `# Runs fitlab experiment ${oneLine(input.experiment)} on ${input.gpuCount} x ${oneLine(input.gpuName)} (${accelerator}), ${input.useSpot ? "spot" : "on-demand"}.`,
    `#   command: ${oneLine(input.fitlabCommand)}`,
    ...(input.planFile !== undefined ? [`#   plan file: ${oneLine(input.planFile)} (shipped with the workdir)`] : []),
    `# Estimate: about ${roundHours(input.estimatedHours)} h x ${money(input.usdPerHour)}/GPU-h x ${input.gpuCount} GPU${input.gpuCount === 1 ? "" : "s"} = ${money(cost)}`,
    "#   (catalog prices; setup time, storage, egress and spot preemptions are not included; check the bill).",
    ...(input.notes ?? []).map((n) => `# ${oneLine(n)}`),
    `# Autodown after ${idleMinutes} idle minutes.`,
    "# Check first (prints the chosen cloud, instance and price, provisions nothing):",
    "#   sky launch --dryrun task.yaml",
    "# Launch from the repository root (workdir: . is synced to ~/sky_workdir); HF_TOKEN comes from your shell",
    "# (needed for gated models such as Llama; for public ones any value, even empty, will do):",
    ...launch,
    ...results,
    "",
  ].join("\n");

  return header + body;
}
