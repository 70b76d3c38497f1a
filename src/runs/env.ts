// Where fitlab keeps its worker environment and runs. FITLAB_HOME (default ~/.fitlab) holds the venv;
// runs live in FITLAB_RUNS (default ./runs), one folder per run plus the SQLite index.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ENGINE_DIR = fileURLToPath(new URL("../../engine/", import.meta.url));
export const REQUIREMENTS = path.join(ENGINE_DIR, "requirements.txt");

export function fitlabHome(): string {
  return process.env.FITLAB_HOME ?? path.join(os.homedir(), ".fitlab");
}

export function venvDir(): string {
  return path.join(fitlabHome(), "venv");
}

export function venvPython(): string {
  return path.join(venvDir(), process.platform === "win32" ? "Scripts/python.exe" : "bin/python");
}

export function runsDir(): string {
  return path.resolve(process.env.FITLAB_RUNS ?? "runs");
}

export function workerReady(): boolean {
  return fs.existsSync(venvPython()) && fs.existsSync(path.join(venvDir(), ".fitlab-ready"));
}
