// A stand-in for the Hugging Face hub on 127.0.0.1, for the planner's config.json + safetensors-header fetch:
// serves /<owner>/<name>/resolve/main/<file> from an in-memory map, honours HTTP Range requests (206 with
// Content-Range, as the hub's CDN does), answers 404 for anything else, and counts the requests it saw.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface HubStandin {
  readonly endpoint: string;
  readonly requests: { path: string; range: string | null }[];
  close(): Promise<void>;
}

export async function startHubStandin(files: Record<string, Buffer | string>): Promise<HubStandin> {
  const requests: HubStandin["requests"] = [];
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? "").split("?")[0]!);
    const range = req.headers.range ?? null;
    requests.push({ path: url, range });
    const m = url.match(/^\/(.+?\/.+?)\/resolve\/main\/(.+)$/);
    const body = m ? files[`${m[1]}/${m[2]}`] : undefined;
    if (body === undefined) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("Entry not found");
      return;
    }
    const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    const r = range?.match(/^bytes=(\d+)-(\d+)?$/);
    if (r) {
      const start = Number(r[1]);
      const end = Math.min(buf.length - 1, r[2] !== undefined ? Number(r[2]) : buf.length - 1);
      res.writeHead(206, { "content-range": `bytes ${start}-${end}/${buf.length}`, "content-length": String(end - start + 1) });
      res.end(buf.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { "content-length": String(buf.length) });
    res.end(buf);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
