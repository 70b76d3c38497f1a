// Hash routes: #/plan, #/runs?kind=..., #/runs/ID, #/compare?runs=a,b or ?sweep=D.lr-sweep.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  readonly path: string[];
  readonly query: URLSearchParams;
}

function parse(): Route {
  const h = location.hash.replace(/^#/, "") || "/runs";
  const q = h.indexOf("?");
  const path = (q >= 0 ? h.slice(0, q) : h).split("/").filter(Boolean).map(decodeURIComponent);
  return { path, query: new URLSearchParams(q >= 0 ? h.slice(q + 1) : "") };
}

export function useRoute(): Route {
  const [r, setR] = useState(parse);
  useEffect(() => {
    const on = () => setR(parse());
    addEventListener("hashchange", on);
    // effects run after the first paint: a hash changed before the listener existed (a link followed while the
    // page was still starting) would be missed, so read it once more now
    on();
    return () => removeEventListener("hashchange", on);
  }, []);
  return r;
}

export function href(path: string, q: Record<string, string | undefined> = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  const s = p.toString();
  return `#${path}${s ? `?${s}` : ""}`;
}

export const go = (path: string, q: Record<string, string | undefined> = {}) => {
  location.hash = href(path, q);
};
