// How a value taken from a user's file appears inside an error message: quoted, control characters and
// invalid text escaped, cut to a readable length, so a message is always one printable line and never
// echoes raw bytes (NUL, escape sequences, a megabyte of junk).

const MAX_SHOWN = 60;

/** A string as `"text"` with control characters escaped (\u0000) and cut after 60 characters. */
export function shownString(s: string, max = MAX_SHOWN): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  // JSON.stringify escapes C0 controls, quotes and backslashes; C1 controls, lone surrogates and
  // line/paragraph separators are escaped by hand
  return JSON.stringify(cut).replace(/[\u007f-\u009f\u2028\u2029\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Any JSON-ish value for a message: strings quoted, numbers as numbers, objects summarised. */
export function shown(v: unknown): string {
  if (typeof v === "string") return shownString(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return "an object";
}

/** Text from a library's error message made safe for one line: control characters escaped, cut short. */
export function oneLine(s: string, max = 300): string {
  const flat = s.replace(/\s+/g, " ").trim();
  const safe = flat.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}
