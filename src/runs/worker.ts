// Start the Python worker, send one request, stream its events, and turn every failure into a
// WorkerError with a one-line message (a CUDA OOM is its own kind).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FitlabInputError } from "../errors.js";
import { oneLine } from "../input/shown.js";
import { ENGINE_DIR, venvPython, workerReady } from "./env.js";
import { parseEvent, PROTOCOL_VERSION, type ErrorKind, type JobName, type WorkerEvent } from "./protocol.js";

export class WorkerError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** the error event's other fields (an OOM carries its step and measured peaks) */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = "WorkerError";
  }
}

export interface WorkerRunOptions {
  readonly onEvent?: (e: WorkerEvent) => void;
  /** extra environment for the worker (e.g. CUDA_VISIBLE_DEVICES) */
  readonly env?: Record<string, string>;
  /** the process id, as soon as it is known (for the run store) */
  readonly onSpawn?: (pid: number) => void;
  /** data-parallel processes under torchrun (one per GPU; gloo on the CPU); default 1 */
  readonly processes?: number;
}

export function requireWorker(): void {
  if (!workerReady()) throw new FitlabInputError("the worker environment is missing: run `npx fitlab engine setup` (creates a Python venv with torch, transformers, peft, bitsandbytes)");
}

/**
 * Why a worker ended without a result, in one line: its signal (SIGKILL from the kernel's OOM killer or a
 * user), or the exception its traceback ends with; never an unrelated last line such as a library warning.
 */
export function deathMessage(job: string, code: number | null, signal: NodeJS.Signals | null, stderrText: string, lastStep: number | null): string {
  const at = lastStep !== null ? ` after step ${lastStep}` : "";
  if (signal) {
    const why = signal === "SIGKILL" ? " (by a user, or by the system when memory ran out)" : "";
    return `the worker was killed by ${signal}${why}${at} before finishing ${job}`;
  }
  const lines = stderrText.split("\n").map((l) => l.trimEnd());
  const tb = lines.lastIndexOf("Traceback (most recent call last):");
  const exception = tb >= 0 ? lines.slice(tb + 1).find((l) => /^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|Warning)?(:|$)/.test(l) && !l.startsWith(" ")) : undefined;
  return `the worker exited with code ${code}${at} before finishing ${job}${exception ? `: ${oneLine(exception, 300)}` : ""}`;
}

/** Run one job; resolves with the result event's fields, rejects with WorkerError. */
export function runJob(job: JobName, config: Record<string, unknown>, opts: WorkerRunOptions = {}): Promise<Record<string, unknown>> {
  requireWorker();
  return new Promise((resolve, reject) => {
    const request = `${JSON.stringify({ v: PROTOCOL_VERSION, job, config, once: true })}\n`;
    const n = opts.processes ?? 1;
    // several processes share no stdin: torchrun's workers read the request from a file (FITLAB_REQUEST)
    const requestFile = n > 1 ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-req-")), "request.json") : null;
    if (requestFile) fs.writeFileSync(requestFile, request);
    const args = n > 1 ? ["-m", "fitlab_worker.torchrun", "--standalone", `--nproc_per_node=${n}`, "-m", "fitlab_worker"] : ["-m", "fitlab_worker"];
    const child = spawn(venvPython(), args, {
      cwd: ENGINE_DIR,
      env: { ...process.env, PYTHONPATH: ENGINE_DIR, PYTHONUNBUFFERED: "1", FITLAB_PARENT_PID: String(process.pid), ...(requestFile ? { FITLAB_REQUEST: requestFile } : {}), ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    let result: Record<string, unknown> | null = null;
    let failure: WorkerError | null = null;
    let buffer = "";
    let lastStep: number | null = null;
    const stderr: string[] = [];
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        const e = parseEvent(line);
        if (e.type === "metric") lastStep = e.step;
        if (e.type === "result") result = e as Record<string, unknown>;
        else if (e.type === "error") failure ??= new WorkerError(e.kind as ErrorKind, e.message, e as Record<string, unknown>);
        opts.onEvent?.(e);
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr.push(chunk);
      if (stderr.length > 200) stderr.splice(0, stderr.length - 200);
    });
    child.on("error", (e) => reject(new WorkerError("crashed", `cannot start the worker (${e.message}): run \`npx fitlab engine setup\``)));
    child.on("close", (code, signal) => {
      if (failure) return reject(failure);
      if (result && code === 0) return resolve(result);
      reject(new WorkerError("crashed", deathMessage(job, code, signal, stderr.join(""), lastStep)));
    });
    child.on("close", () => {
      if (requestFile) fs.rmSync(path.dirname(requestFile), { recursive: true, force: true });
    });
    if (!requestFile) child.stdin.write(request);
    child.stdin.end();
  });
}
