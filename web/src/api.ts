// Talking to the fitlab ui server: JSON from the same functions the CLI prints with --json. The session
// cookie rides along (same origin); errors arrive as {error} with a one-line message.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function qs(q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

async function answer<T>(r: Response): Promise<T> {
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try {
      msg = ((await r.json()) as { error?: string }).error ?? msg;
    } catch {
      // not JSON
    }
    throw new ApiError(r.status, msg);
  }
  const type = r.headers.get("content-type") ?? "";
  return (type.includes("json") ? await r.json() : await r.text()) as T;
}

export async function get<T>(path: string, q?: Query, signal?: AbortSignal): Promise<T> {
  return answer<T>(await fetch(`${path}${qs(q)}`, { credentials: "same-origin", ...(signal ? { signal } : {}) }));
}

export async function postText<T>(path: string, body: string, type: string, q?: Query): Promise<T> {
  return answer<T>(await fetch(`${path}${qs(q)}`, { method: "POST", body, headers: { "Content-Type": type }, credentials: "same-origin" }));
}

/** One head's attention map: little-endian float32, rows x cols (GET /api/runs/:id/maps/:prompt/:layer/:head). */
export interface MapTile {
  rows: number;
  cols: number;
  resolution: "pooled" | "full";
  side: string;
  data: Float32Array;
}

const tiles = new Map<string, Promise<MapTile>>();

export function getMapTile(runId: string, prompt: number, layer: number, head: number, q: { side?: string; res?: string }): Promise<MapTile> {
  const url = `/api/runs/${encodeURIComponent(runId)}/maps/${prompt}/${layer}/${head}${qs(q)}`;
  let hit = tiles.get(url);
  if (!hit) {
    hit = fetch(url, { credentials: "same-origin" }).then(async (r) => {
      if (!r.ok) return answer<never>(r);
      const [rows, cols] = (r.headers.get("X-Fitlab-Shape") ?? "0,0").split(",").map(Number) as [number, number];
      return { rows, cols, resolution: r.headers.get("X-Fitlab-Resolution") as MapTile["resolution"], side: r.headers.get("X-Fitlab-Side") ?? "", data: new Float32Array(await r.arrayBuffer()) };
    });
    hit.catch(() => tiles.delete(url));
    tiles.set(url, hit);
    // a finished run's maps never change; keep the last few dozen
    if (tiles.size > 48) tiles.delete(tiles.keys().next().value!);
  }
  return hit;
}
