// Run the CLI inside this process (main() with argv), capturing what it writes: hundreds of corpus cases in
// seconds instead of hundreds of node start-ups. Environment and exit code are restored after each call.
import { main } from "../../src/cli/main.js";

export interface InProcessResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  readonly ms: number;
}

export async function runInProcess(argv: readonly string[], env: Record<string, string> = {}): Promise<InProcessResult> {
  const out: string[] = [];
  const err: string[] = [];
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  const stderrWrite = process.stderr.write.bind(process.stderr);
  const savedEnv = { ...process.env };
  const capture = (sink: string[]) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      sink.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  Object.assign(process.env, env);
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  const t0 = performance.now();
  let code: number;
  try {
    code = await main(["node", "fitlab", ...argv]);
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
    process.exitCode = undefined;
  }
  return { code, out: out.join(""), err: err.join(""), ms: performance.now() - t0 };
}
