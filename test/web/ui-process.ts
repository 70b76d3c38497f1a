// `fitlab ui` as a real process (the compiled CLI), for the web tests and the benchmark: start it on a
// free port, read the first stdout line (the contract), and stop it.
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/fitlab.js", import.meta.url));
export const FIRST_LINE = /^fitlab ui: (http:\/\/127\.0\.0\.1:(\d+))\/\?token=([A-Za-z0-9_-]+)$/;

export interface UiProcess {
  readonly url: string;
  readonly base: string;
  readonly port: number;
  readonly token: string;
  readonly firstLine: string;
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

export function startUiProcess(runsDir: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<UiProcess> {
  const proc = spawn(process.execPath, [BIN, "ui", "--port", "0", "--no-open", "--runs", runsDir, ...extraArgs], { env: { ...process.env, FITLAB_NO_NVIDIA_SMI: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    proc.on("exit", (code) => reject(new Error(`fitlab ui exited with ${code}: ${err}`)));
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      const firstLine = out.slice(0, nl);
      const m = FIRST_LINE.exec(firstLine);
      if (!m) return reject(new Error(`unexpected first line: ${firstLine}`));
      resolve({
        url: `${m[1]}/?token=${m[3]}`,
        base: m[1]!,
        port: Number(m[2]),
        token: m[3]!,
        firstLine,
        proc,
        stop: () =>
          new Promise<void>((res) => {
            if (proc.exitCode !== null) return res();
            proc.removeAllListeners("exit");
            proc.on("exit", () => res());
            proc.kill("SIGTERM");
          }),
      });
    });
  });
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** An HTTP request with any headers (fetch may not set Host). */
export function request(port: number, method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: target, agent: false, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (data += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
