// YAML stays the source of truth for fitlab's data files; parsing it is the slowest part of a CLI call,
// so the parsed value is cached as JSON, keyed by the SHA-1 of the text (a changed file is a new key).
// The cache is best effort: any failure to read or write it falls back to parsing.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import { createRequire } from "node:module";
import path from "node:path";

type YamlLib = typeof import("yaml");
let lib: YamlLib | undefined;

/** The yaml package, loaded on first use: it costs ~0.1 s to load and a cached parse never needs it. */
export function yamlLib(): YamlLib {
  lib ??= createRequire(import.meta.url)("yaml") as YamlLib;
  return lib;
}

/** Options for the yaml package's parse(): logLevel "error", because it would print its warnings (an unresolved
 *  tag such as !!js/function) through process.emitWarning, a second stderr line on a later tick after fitlab's
 *  own one-line refusal; the value it gives such a node is checked like any other. */
export const QUIET_PARSE = { logLevel: "error" } as const;

const DIR = path.join(os.tmpdir(), `fitlab-yaml-cache-${process.getuid?.() ?? "u"}`);

export function parseYamlCached(text: string): unknown {
  const key = createHash("sha1").update(text).digest("hex");
  const file = path.join(DIR, `${key}.json`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    // not cached yet (or unreadable): parse and try to store
  }
  const value: unknown = yamlLib().parse(text, QUIET_PARSE);
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
