// `fitlab engine setup`: create the worker's virtual environment and install the pinned Python stack
// from PyPI (engine/requirements.txt). Idempotent: a marker records the requirements it was built from.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { FitlabInputError } from "../errors.js";
import { fitlabHome, REQUIREMENTS, venvDir, venvPython } from "./env.js";

export interface SetupStep {
  readonly step: number;
  readonly total: number;
  readonly name: string;
}

function findPython(): string {
  for (const cand of [process.env.FITLAB_PYTHON, "python3", "python"].filter(Boolean) as string[]) {
    const r = spawnSync(cand, ["-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8" });
    if (r.status === 0) {
      const [maj, min] = r.stdout.trim().split(".").map(Number);
      if (maj === 3 && (min ?? 0) >= 9) return cand;
    }
  }
  throw new FitlabInputError("no Python 3.9+ with the venv module found: install python3 (and python3-venv), or point FITLAB_PYTHON at one");
}

function run(cmd: string, args: string[], log: fs.WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on("error", (e) => reject(new FitlabInputError(`cannot run ${cmd}: ${e.message}`)));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new FitlabInputError(`${path.basename(cmd)} ${args.slice(0, 3).join(" ")} failed (exit ${code}); see ${log.path}`))));
  });
}

export function requirementsHash(): string {
  return createHash("sha256").update(fs.readFileSync(REQUIREMENTS)).digest("hex").slice(0, 16);
}

/** Create or update the venv. Returns "ready" when nothing had to change. */
export async function setupEngine(onStep: (s: SetupStep) => void = () => {}): Promise<"installed" | "ready"> {
  const marker = path.join(venvDir(), ".fitlab-ready");
  const hash = requirementsHash();
  if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8").trim() === hash && fs.existsSync(venvPython())) return "ready";
  fs.mkdirSync(fitlabHome(), { recursive: true });
  const logFile = path.join(fitlabHome(), "setup.log");
  const log = fs.createWriteStream(logFile, { flags: "w" });
  try {
    const total = 4;
    onStep({ step: 1, total, name: "create the virtual environment" });
    if (!fs.existsSync(venvPython())) await run(findPython(), ["-m", "venv", venvDir()], log);
    onStep({ step: 2, total, name: "upgrade pip" });
    await run(venvPython(), ["-m", "pip", "install", "--disable-pip-version-check", "-q", "--upgrade", "pip"], log);
    onStep({ step: 3, total, name: "install torch, transformers, peft, accelerate, safetensors, bitsandbytes, datasets, nvidia-ml-py (several GB)" });
    await run(venvPython(), ["-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", REQUIREMENTS], log);
    onStep({ step: 4, total, name: "check the imports" });
    await run(venvPython(), ["-c", "import torch, transformers, peft, safetensors, bitsandbytes, datasets, pynvml"], log);
    fs.writeFileSync(marker, `${hash}\n`);
    return "installed";
  } finally {
    log.end();
  }
}
