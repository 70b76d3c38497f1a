// Shared test helpers: the CLI as a real process, and the "one line, exit 2" rule for bad input.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { FitlabInputError } from "../src/errors.js";
import { WorkerError } from "../src/runs/worker.js";

export const BIN = fileURLToPath(new URL("../bin/fitlab.js", import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Run the compiled CLI; nvidia-smi is ignored so results do not depend on the machine's GPU. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1", ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The compiled CLI as a child process that does not block this one (a stand-in server here can answer it). */
export function runCliAsync(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1", ...env } });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    c.on("close", (code) => resolve({ code, out, err }));
  });
}

/** The WorkerError a worker job's promise rejects with. */
export async function workerFailure(p: Promise<unknown>): Promise<WorkerError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WorkerError);
    return e as WorkerError;
  }
  throw new Error("expected the job to fail");
}

/** Bad input: exit code 2 and exactly one line on stderr matching `msg`, never a stack trace. */
export function expectOneLineError(r: CliResult, msg: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.err).toMatch(msg);
  expect(r.err.trim().split("\n")).toHaveLength(1);
  expect(r.err).not.toMatch(/at .*\.js:\d+/);
}

/** The FitlabInputError `fn` throws, checked to be one line with exit code 2. */
export function inputError(fn: () => unknown): FitlabInputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FitlabInputError);
    const err = e as FitlabInputError;
    expect(err.exitCode).toBe(2);
    expect(err.message).not.toMatch(/\n/);
    return err;
  }
  throw new Error("expected a FitlabInputError");
}
