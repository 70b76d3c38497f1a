// Formatting for people: GiB, durations, tables. Only the CLI and reports use these.
import { thousands } from "../report/units.js";

const GIB = 2 ** 30;

export function gib(bytes: number, digits = 2): string {
  if (bytes > 0 && bytes < GIB / 10) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / GIB).toFixed(digits)} GiB`;
}

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "-";
  if (seconds < 1) return `${(seconds * 1000).toFixed(0)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

export function count(n: number): string {
  return thousands(n);
}

/** A plain left-aligned text table; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+( ?[%a-zA-Z/]+)?$|^-$/.test(r[i] ?? "")));
  const line = (cells: readonly string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
