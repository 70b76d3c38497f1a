// One place that writes results: JSON objects verbatim (what the web receives), text as is.
export function print(value: unknown, json: boolean | undefined): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${String(value)}\n`);
}
