// Shared pieces of the inspection worker tests: tiny models with planted structure (make_tiny "plant"), prompt
// files, and the CLI run against a fresh run store. Everything is built locally; nothing is downloaded.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { workerReady } from "../../src/runs/env.js";
import { runJob } from "../../src/runs/worker.js";

export const BIN = fileURLToPath(new URL("../../bin/fitlab.js", import.meta.url));
export const ready = workerReady();
if (!ready && process.env.CI) throw new Error("CI must run `npx fitlab engine setup` before the tests (see .ci/run)");
if (!ready) console.warn("SKIPPED: inspection worker tests need `npx fitlab engine setup`");

/** Two-letter words, each one token of the tiny word-level tokenizer. */
export const WORDS = Array.from({ length: 40 }, (_, i) => String.fromCharCode(97 + Math.floor(i / 26)) + String.fromCharCode(97 + (i % 26)));

export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fitlab-${tag}-`));
}

/** A seeded generator (mulberry32), so prompts are the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomWords(r: () => number, n: number, words: readonly string[] = WORDS): string[] {
  return Array.from({ length: n }, () => words[Math.floor(r() * words.length)]!);
}

export function writePrompts(file: string, prompts: readonly string[]): string {
  fs.writeFileSync(file, `${prompts.join("\n")}\n`);
  return file;
}

export async function makeTiny(dir: string, config: Record<string, unknown>): Promise<Record<string, unknown>> {
  return runJob("make_tiny", { out_dir: dir, arch: "qwen2", words: WORDS, num_heads: 4, num_kv_heads: 2, seed: 0, ...config });
}

export interface Cli {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  readonly json: Record<string, unknown>;
}

export function fitlab(args: readonly string[], runs: string): Cli {
  const r = spawnSync(process.execPath, [BIN, ...args, "--runs", runs], { encoding: "utf8", env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" } });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // not JSON (an error, or text output)
  }
  return { code: r.status, out: r.stdout, err: r.stderr, json };
}

/** Rows of the run store (0 when the store was never created). */
export function storeRows(runs: string): { id: string; kind: string; status: string; parent_run: string | null }[] {
  const file = path.join(runs, "fitlab.sqlite");
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT id, kind, status, parent_run FROM runs").all() as { id: string; kind: string; status: string; parent_run: string | null }[];
  } finally {
    db.close();
  }
}

/** Folders in the store directory other than the index (run folders, temporary folders). */
export function storeFolders(runs: string): string[] {
  return fs.existsSync(runs) ? fs.readdirSync(runs).filter((f) => !f.startsWith("fitlab.sqlite")) : [];
}
