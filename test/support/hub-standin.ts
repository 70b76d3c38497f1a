// A local stand-in for the Hugging Face Hub: an HTTP server on 127.0.0.1 that serves model and dataset
// repositories from local folders in the hub's URL layout, so the worker's real loading code
// (huggingface_hub's snapshot_download, transformers, the `datasets` library) runs in tests with
// HF_ENDPOINT pointing here. Routes are the ones huggingface_hub 2.x and datasets 5.x call (read from
// their sources: huggingface_hub/hf_api.py repo_info/list_repo_tree/get_paths_info,
// file_download.py get_hf_file_metadata/http_get, hf_file_system.py, utils/_http.py hf_raise_for_status):
//   GET  /api/{models|datasets}/{id}[/revision/{rev}]        repo info: sha, siblings, gated
//   GET  /api/{models|datasets}/{id}/tree/{rev}[/{path}]     tree listing (?recursive=true)
//   POST /api/{models|datasets}/{id}/paths-info/{rev}        info for given paths (form or JSON body)
//   HEAD|GET /{id}/resolve/{rev}/{path}, /datasets/{id}/resolve/{rev}/{path}   files, with Range requests
// Errors carry the hub's X-Error-Code header (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo),
// which is how huggingface_hub tells them apart. A gated repo answers 401 without a valid token.
// Run alone for manual checks: npx tsx test/support/hub-standin.ts model:ID=DIR dataset:ID=DIR
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface StandinRepo {
  readonly type: "model" | "dataset";
  readonly id: string; // "owner/name"
  /** folder whose files (recursively) are the repository's files */
  readonly dir: string;
  /** a gated repo needs `Authorization: Bearer <token>` with the stand-in's token */
  readonly gated?: boolean;
}

export interface HubStandin {
  readonly url: string;
  /** every request as "METHOD path" (with query), in order */
  readonly requests: string[];
  /** the commit sha each repo serves as its "main" */
  sha(id: string): string;
  close(): Promise<void>;
}

interface RepoFile {
  readonly path: string;
  readonly abs: string;
  readonly size: number;
  readonly gitSha: string;
  readonly sha256: string | null; // LFS files (binary): sha256 of the content
}

interface LoadedRepo extends StandinRepo {
  readonly sha: string;
  readonly files: Map<string, RepoFile>;
}

const LFS = /\.(safetensors|parquet|arrow|bin|pt|gguf|model)$/;

function walk(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(path.join(dir, e.name), rel));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

function load(r: StandinRepo): LoadedRepo {
  const files = new Map<string, RepoFile>();
  const commit = createHash("sha1");
  for (const rel of walk(r.dir)) {
    const abs = path.join(r.dir, rel);
    const data = fs.readFileSync(abs);
    const gitSha = createHash("sha1").update(`blob ${data.length}\0`).update(data).digest("hex");
    files.set(rel, { path: rel, abs, size: data.length, gitSha, sha256: LFS.test(rel) ? createHash("sha256").update(data).digest("hex") : null });
    commit.update(`${rel}\0${gitSha}\n`);
  }
  return { ...r, sha: commit.digest("hex"), files };
}

function treeEntry(f: RepoFile): Record<string, unknown> {
  return {
    type: "file",
    oid: f.gitSha,
    size: f.size,
    path: f.path,
    ...(f.sha256 ? { lfs: { oid: f.sha256, size: f.size, pointerSize: 134 } } : {}),
  };
}

function dirsOf(files: Iterable<RepoFile>): Set<string> {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return dirs;
}

export async function startHubStandin(repos: readonly StandinRepo[], opts: { token?: string } = {}): Promise<HubStandin> {
  const loaded = new Map<string, LoadedRepo>();
  for (const r of repos) loaded.set(`${r.type}:${r.id}`, load(r));
  const requests: string[] = [];
  const token = opts.token ?? "hf_standin_token";

  const fail = (res: http.ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { "Content-Type": "application/json", "X-Error-Code": code, "X-Error-Message": message });
    res.end(JSON.stringify({ error: message }));
  };
  const json = (res: http.ServerResponse, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(200, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

  /** Find the repo, check access and the revision; answers the error itself and returns null when it fails. */
  const open = (req: http.IncomingMessage, res: http.ServerResponse, type: "model" | "dataset", id: string, rev: string | null, files = false): LoadedRepo | null => {
    const repo = loaded.get(`${type}:${id}`);
    if (!repo) {
      fail(res, 404, "RepoNotFound", "Repository not found");
      return null;
    }
    // like the hub: a gated repo's metadata and listing are public, its files need a token with access
    if (files && repo.gated && req.headers.authorization !== `Bearer ${token}`) {
      fail(res, 401, "GatedRepo", `Access to ${type} ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      return null;
    }
    if (rev !== null && rev !== "main" && rev !== repo.sha) {
      fail(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
      return null;
    }
    return repo;
  };

  const info = (repo: LoadedRepo) => ({
    _id: createHash("md5").update(repo.id).digest("hex").slice(0, 24),
    id: repo.id,
    ...(repo.type === "model" ? { modelId: repo.id, library_name: "transformers", pipeline_tag: "text-generation" } : {}),
    author: repo.id.split("/")[0],
    sha: repo.sha,
    lastModified: "2026-11-01T00:00:00.000Z",
    private: false,
    gated: repo.gated ? "manual" : false,
    disabled: false,
    downloads: 0,
    likes: 0,
    tags: [],
    cardData: {},
    siblings: [...repo.files.values()].map((f) => ({ rfilename: f.path, size: f.size, blobId: f.gitSha, ...(f.sha256 ? { lfs: { sha256: f.sha256, size: f.size, pointerSize: 134 } } : {}) })),
    usedStorage: [...repo.files.values()].reduce((s, f) => s + f.size, 0),
    createdAt: "2026-11-01T00:00:00.000Z",
  });

  const serveFile = (req: http.IncomingMessage, res: http.ServerResponse, repo: LoadedRepo, file: string) => {
    const f = repo.files.get(file);
    if (!f) return fail(res, 404, "EntryNotFound", `${file} does not exist on "main"`);
    const etag = `"${f.sha256 ?? f.gitSha}"`;
    const headers: Record<string, string | number> = {
      "X-Repo-Commit": repo.sha,
      ETag: etag,
      "Accept-Ranges": "bytes",
      "Content-Type": "application/octet-stream",
      "Content-Disposition": `inline; filename="${path.basename(file)}"`,
    };
    if (f.sha256) {
      headers["X-Linked-Etag"] = etag;
      headers["X-Linked-Size"] = f.size;
    }
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ""));
    let start = 0;
    let end = f.size - 1;
    let status = 200;
    if (range) {
      if (range[1] === "") start = Math.max(0, f.size - Number(range[2]));
      else {
        start = Number(range[1]);
        if (range[2] !== "") end = Math.min(Number(range[2]), f.size - 1);
      }
      if (start >= f.size && f.size > 0) {
        res.writeHead(416, { "Content-Range": `bytes */${f.size}` });
        return res.end();
      }
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${f.size}`;
    }
    headers["Content-Length"] = f.size === 0 ? 0 : end - start + 1;
    res.writeHead(status, headers);
    if (req.method === "HEAD" || f.size === 0) return res.end();
    fs.createReadStream(f.abs, { start, end }).pipe(res);
  };

  const readBody = (req: http.IncomingMessage) =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    try {
      if (parts[0] === "api" && (parts[1] === "models" || parts[1] === "datasets")) {
        const type = parts[1] === "models" ? "model" : "dataset";
        const id = `${parts[2]}/${parts[3]}`;
        const rest = parts.slice(4);
        if (rest.length === 0 || (rest[0] === "revision" && rest.length >= 2)) {
          const repo = open(req, res, type, id, rest.length ? rest.slice(1).join("/") : null);
          return repo && json(res, info(repo));
        }
        if (rest[0] === "tree" || rest[0] === "paths-info") {
          // revisions like refs/convert/parquet arrive url-encoded as one segment
          const rev = rest[1] ?? "main";
          const repo = open(req, res, type, id, rev);
          if (!repo) return;
          if (rest[0] === "tree") {
            const sub = rest.slice(2).join("/");
            const recursive = url.searchParams.get("recursive") === "true" || url.searchParams.get("recursive") === "True";
            const files = [...repo.files.values()].filter((f) => (sub ? f.path.startsWith(`${sub}/`) : true));
            if (sub && files.length === 0 && !repo.files.has(sub)) return fail(res, 404, "EntryNotFound", `${sub} does not exist`);
            const depth = sub ? sub.split("/").length + 1 : 1;
            const entries: Record<string, unknown>[] = [];
            for (const d of [...dirsOf(files)].filter((d) => !sub || d.startsWith(`${sub}/`))) {
              if (recursive || d.split("/").length === depth) entries.push({ type: "directory", oid: createHash("sha1").update(d).digest("hex"), size: 0, path: d });
            }
            for (const f of files) if (recursive || f.path.split("/").length === depth) entries.push(treeEntry(f));
            return json(res, entries);
          }
          const body = await readBody(req);
          let paths: string[] = [];
          if ((req.headers["content-type"] ?? "").includes("json")) paths = (JSON.parse(body || "{}") as { paths?: string[] }).paths ?? [];
          else paths = new URLSearchParams(body).getAll("paths");
          const dirs = dirsOf(repo.files.values());
          const out: Record<string, unknown>[] = [];
          for (const p of paths) {
            const f = repo.files.get(p);
            if (f) out.push(treeEntry(f));
            else if (dirs.has(p)) out.push({ type: "directory", oid: createHash("sha1").update(p).digest("hex"), size: 0, path: p });
          }
          return json(res, out);
        }
        return fail(res, 404, "EntryNotFound", `no stand-in route for ${url.pathname}`);
      }
      // file downloads: /{owner}/{name}/resolve/{rev}/{path} or /datasets/{owner}/{name}/resolve/{rev}/{path}
      const type = parts[0] === "datasets" ? "dataset" : "model";
      const p = type === "dataset" ? parts.slice(1) : parts;
      if (p[2] === "resolve" && p.length >= 5) {
        const repo = open(req, res, type, `${p[0]}/${p[1]}`, p[3]!, true);
        return repo && serveFile(req, res, repo, p.slice(4).join("/"));
      }
      return fail(res, 404, "RepoNotFound", `no stand-in route for ${url.pathname}`);
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sha: (id: string) => {
      const r = [...loaded.values()].find((x) => x.id === id);
      if (!r) throw new Error(`no stand-in repo ${id}`);
      return r.sha;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// manual use: npx tsx test/support/hub-standin.ts model:owner/name=DIR dataset:owner/name=DIR [gated:owner/name=DIR]
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const repos: StandinRepo[] = process.argv.slice(2).map((a) => {
    const m = /^(model|dataset|gated):([^=]+)=(.+)$/.exec(a);
    if (!m) throw new Error(`argument ${a}: use model:ID=DIR, dataset:ID=DIR or gated:ID=DIR`);
    return { type: m[1] === "dataset" ? "dataset" : "model", id: m[2]!, dir: m[3]!, gated: m[1] === "gated" };
  });
  const hub = await startHubStandin(repos);
  console.log(hub.url);
  process.on("SIGTERM", () => {
    for (const r of hub.requests) console.error(r);
    process.exit(0);
  });
  setInterval(() => {
    if (hub.requests.length) console.error(hub.requests.splice(0).join("\n"));
  }, 500);
}
