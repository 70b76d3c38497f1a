// Formatting for people (the server sends integer bytes and seconds).
const GIB = 2 ** 30;

export function gib(bytes: number | null | undefined, digits = 2): string {
  if (bytes === null || bytes === undefined) return "–";
  if (bytes > 0 && bytes < GIB / 10) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / GIB).toFixed(digits)} GiB`;
}

export function num(x: number | null | undefined, digits = 0): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function loss(x: number | null | undefined): string {
  return x === null || x === undefined ? "–" : x.toFixed(4);
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  if (seconds < 1) return `${(seconds * 1000).toFixed(0)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

export const label = (k: string) => k.replace(/_/g, " ");
