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
