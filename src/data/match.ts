// The one name-matching rule for every catalog (GPUs, models, engines): an exact name or alias first, then a
// unique prefix, else a refusal that lists the closest names ranked by similarity. Keys are compared after
// `normalize` (each catalog passes its own: the GPU catalog drops vendor words).

import { shownString } from "../input/shown.js";
export interface Labelled<T> {
  readonly value: T;
  /** the canonical name first, then aliases */
  readonly labels: readonly string[];
}

export type MatchResult<T> =
  | { readonly kind: "hit"; readonly value: T; readonly via: "exact" | "prefix" }
  | { readonly kind: "ambiguous"; readonly candidates: readonly T[] }
  | { readonly kind: "none"; readonly closest: readonly T[] };

/** Default key: lower case, letters, digits and dots only ("Qwen/Qwen2.5-7B" -> "qwenqwen2.57b"). */
export function defaultKey(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9.]/g, "");
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Distance between two keys, smaller is closer: one contained in the other ranks ahead of any edit, the
 *  smaller the length difference the better; otherwise the edit distance relative to the longer key. */
export function keyDistance(q: string, k: string): number {
  if (q === k) return 0;
  const [short, long] = q.length <= k.length ? [q, k] : [k, q];
  if (short.length >= 2 && long.includes(short)) return 0.1 + (long.length - short.length) / (100 * long.length);
  return 0.2 + levenshtein(q, k) / Math.max(q.length, k.length, 1);
}

/** Rank plain names by similarity to a query (closest first). */
export function rankBySimilarity(query: string, names: readonly string[], normalize: (s: string) => string = defaultKey): string[] {
  const q = normalize(query);
  return names
    .map((n, i) => ({ n, i, d: keyDistance(q, normalize(n)) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((r) => r.n);
}

function rank<T>(q: string, entries: readonly Labelled<T>[], normalize: (s: string) => string): T[] {
  return entries
    .map((e, i) => ({ e, i, d: Math.min(...e.labels.map((l) => keyDistance(q, normalize(l)))) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((r) => r.e.value);
}

/** Match a query against labelled entries with the one rule. */
export function matchName<T>(query: string, entries: readonly Labelled<T>[], normalize: (s: string) => string = defaultKey): MatchResult<T> {
  const q = normalize(query);
  if (q === "") return { kind: "none", closest: [] };
  const exact = entries.filter((e) => e.labels.some((l) => normalize(l) === q));
  if (exact.length === 1) return { kind: "hit", value: exact[0]!.value, via: "exact" };
  if (exact.length > 1) return { kind: "ambiguous", candidates: rank(q, exact, normalize) };
  const prefixed = q.length >= 2 ? entries.filter((e) => e.labels.some((l) => normalize(l).startsWith(q))) : [];
  if (prefixed.length === 1) return { kind: "hit", value: prefixed[0]!.value, via: "prefix" };
  if (prefixed.length > 1) return { kind: "ambiguous", candidates: rank(q, prefixed, normalize) };
  return { kind: "none", closest: rank(q, entries, normalize) };
}

/** One-line refusal for a miss: "unknown GPU "x"; closest: a, b, c" or "GPU "x" is ambiguous: a, b". */
export function missMessage<T>(what: string, query: string, r: Exclude<MatchResult<T>, { kind: "hit" }>, show: (t: T) => string, max = 4): string {
  // the query as typed, quoted and with control characters escaped (it may come from a hostile file)
  const q = shownString(query);
  if (r.kind === "ambiguous") return `${what} ${q} is ambiguous: it matches ${r.candidates.slice(0, max).map(show).join(", ")}${r.candidates.length > max ? ` and ${r.candidates.length - max} more` : ""}; give one of these`;
  return `unknown ${what} ${q}${r.closest.length ? `; closest: ${r.closest.slice(0, max).map(show).join(", ")}` : ""}`;
}
