// Words and units for documents: every figure carries its provenance mark.
export const EST = "ᵉ"; // estimated by the fitlab planner
export const CAT = "ᶜ"; // read from a dated catalog

/** 1234567 -> "1,234,567" without Intl (toLocaleString loads ICU data on first use: ~80 ms of start-up). */
export function thousands(n: number): string {
  const [int, frac] = String(Math.abs(n)).split(".");
  return `${n < 0 ? "-" : ""}${int!.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${frac !== undefined ? `.${frac}` : ""}`;
}

export const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
export const usd = (x: number) => (Math.abs(x) < 10 && x !== 0 ? `$${x.toFixed(2)}` : `$${thousands(Math.round(x))}`);
export const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

export function hours(seconds: number): string {
  const h = seconds / 3600;
  if (seconds === 0) return "-";
  if (h < 1 / 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (h < 1) return `${Math.round(h * 60)} min`;
  if (h < 48) return `${h.toFixed(1)} h`;
  return `${(h / 24).toFixed(1)} days`;
}

export function mdTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [`| ${headers.join(" | ")} |`, `|${headers.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}
