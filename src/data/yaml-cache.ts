// YAML stays the source of truth for fitlab's data files; parsing it is the slowest part of a CLI call,
// so the parsed value is cached as JSON, keyed by the SHA-1 of the text (a changed file is a new key).
// The cache is best effort: any failure to read or write it falls back to parsing.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";

const DIR = path.join(os.tmpdir(), `fitlab-yaml-cache-${process.getuid?.() ?? "u"}`);

export function parseYamlCached(text: string): unknown {
  const key = createHash("sha1").update(text).digest("hex");
  const file = path.join(DIR, `${key}.json`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    // not cached yet (or unreadable): parse and try to store
  }
  const value: unknown = parse(text);
  try {
    fs.mkdirSync(DIR, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(value));
    fs.renameSync(tmp, file);
  } catch {
    // read-only or full temp dir: fine, parse next time
  }
  return value;
}
