// A data file fitlab reads (prices, GPU catalogs, engine profiles, calibration, sustained rates, the user's
// calibration.json): read through the input layer (regular file, size limit, UTF-8, no NUL), parsed, checked
// against a zod schema and then against cross-field rules. Every problem is one line naming the file, the
// line (YAML) and the field: `prices file p.yaml line 14: buy[2].range_usd: low $900 is above high $700`.
// The common case stays fast: a cached parse without positions; only a file with a problem is parsed again
// with positions to find its line.
import { fileURLToPath } from "node:url";
import { isMap, isSeq, type Node } from "yaml";
import type { z } from "zod";
import { parseYamlCached } from "../data/yaml-cache.js";
import { FitlabInputError } from "../errors.js";
import { parseJsonText } from "./json.js";
import { LIMITS } from "./limits.js";
import { readTextFile } from "./read.js";
import { shownString } from "./shown.js";
import { flowNesting, parseYaml, valueDepth, type ParsedYaml } from "./yaml.js";
import { valueAt, zodIssueText } from "./zod-issue.js";

export type FieldPath = readonly PropertyKey[];

/** `buy[2].range_usd`, `profiles."hf-peft".kernels`: a field as people read it. */
export function formatField(path: FieldPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else {
      const s = String(seg);
      const name = /^[A-Za-z_][\w-]*$/.test(s) ? s : shownString(s, 40);
      out += out === "" ? name : `.${name}`;
    }
  }
  return out;
}

/** The line a path of keys starts on in a parsed YAML document (the deepest node found on the way). */
export function lineOfPath(y: ParsedYaml, path: FieldPath): number {
  let node: unknown = y.doc.contents;
  let best = 1;
  const lineOfNode = (n: unknown) => {
    const r = (n as Node | null)?.range;
    if (r) best = y.counter.linePos(r[0]).line;
  };
  for (const key of path) {
    lineOfNode(node);
    if (isMap(node)) node = node.get(key as string, true);
    else if (isSeq(node)) node = node.get(key as number, true);
    else {
      node = null;
      break;
    }
  }
  if (node) lineOfNode(node);
  return best;
}

export interface DataFile<T> {
  /** the file as named in messages */
  readonly file: string;
  readonly data: T;
  /** Refuse the file at a field: one line with the file, the field's line (YAML) and the message. */
  fail(path: FieldPath, message: string): never;
}

function nameOf(file: string | URL): string {
  return typeof file === "string" ? file : fileURLToPath(file);
}

function issueMessage(issue: z.core.$ZodIssue, raw: unknown): { path: FieldPath; message: string } {
  const path = issue.path as PropertyKey[];
  // an unknown key is reported at the key itself, so its line is the key's line
  if (issue.code === "unrecognized_keys") return { path: [...path, (issue as { keys: string[] }).keys[0]!], message: zodIssueText(issue, valueAt(raw, path)) };
  return { path, message: zodIssueText(issue, valueAt(raw, path)) };
}

/**
 * Read and check a YAML data file. `what` names the kind of file ("prices file", "GPU file"); `rules` checks
 * what a schema cannot (ranges that depend on each other, names that must exist) and calls `fail`.
 */
export function loadYamlData<S extends z.ZodType>(file: string | URL, what: string, maxBytes: number, schema: S, rules?: (f: DataFile<z.infer<S>>) => void): DataFile<z.infer<S>> {
  const name = nameOf(file);
  const text = readTextFile(name, what, maxBytes);
  const label = `${what} ${name}`;
  let positioned: ParsedYaml | null = null;
  const yaml = () => (positioned ??= parseYaml(text));
  const at = (path: FieldPath) => `${label} line ${lineOfPath(yaml(), path)}: ${path.length ? `${formatField(path)}: ` : ""}`;
  // fast path: the cached parse (no positions); any doubt (a syntax error, a poisoned cache entry, a schema
  // problem) goes through the positioned parser, whose value is the one checked and reported
  let raw: unknown;
  let parsed: z.ZodSafeParseResult<z.infer<S>> | null = null;
  const nesting = flowNesting(text, LIMITS.nesting);
  if (nesting.overLine < 0) {
    try {
      raw = parseYamlCached(text);
      if (valueDepth(raw, LIMITS.nesting) <= LIMITS.nesting) parsed = schema.safeParse(raw);
    } catch {
      parsed = null;
    }
  }
  if (!parsed?.success) {
    const y = yaml();
    if (y.problem) throw new FitlabInputError(`${label} line ${y.problem.line}: ${y.problem.message}`);
    raw = y.value;
    if (raw === null || raw === undefined) throw new FitlabInputError(`${label} is empty`);
    parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const first = issueMessage(parsed.error.issues[0]!, raw);
      throw new FitlabInputError(`${at(first.path)}${first.message}`);
    }
  }
  const result: DataFile<z.infer<S>> = {
    file: name,
    data: parsed.data,
    fail: (path, message) => {
      throw new FitlabInputError(`${at(path)}${message}`);
    },
  };
  rules?.(result);
  return result;
}

/** Read and check a JSON data file (no lines for fields: JSON syntax errors still carry theirs). */
export function loadJsonData<S extends z.ZodType>(file: string, what: string, maxBytes: number, schema: S, rules?: (f: DataFile<z.infer<S>>) => void, hint = ""): DataFile<z.infer<S>> {
  const label = `${what} ${file}`;
  let raw: unknown;
  try {
    raw = parseJsonText(readTextFile(file, what, maxBytes), label);
  } catch (e) {
    if (e instanceof FitlabInputError && hint) throw new FitlabInputError(`${e.message}${hint}`);
    throw e;
  }
  const fail = (path: FieldPath, message: string): never => {
    throw new FitlabInputError(`${label}: ${path.length ? `${formatField(path)}: ` : ""}${message}${hint}`);
  };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = issueMessage(parsed.error.issues[0]!, raw);
    fail(first.path, first.message);
  }
  const result: DataFile<z.infer<S>> = { file, data: parsed.data as z.infer<S>, fail };
  rules?.(result);
  return result;
}

/** A calendar date written YYYY-MM or YYYY-MM-DD that exists (no month 13, no February 30). */
export function dateProblem(s: string, today: string): string | null {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(s);
  if (!m) return `expected a date YYYY-MM or YYYY-MM-DD, found ${shownString(s)}`;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), m[3] === undefined ? null : Number(m[3])];
  if (mo < 1 || mo > 12) return `${s} has no month ${mo}`;
  if (d !== null) {
    const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    if (d < 1 || d > days) return `${s} is not a day of the calendar (${String(mo).padStart(2, "0")}/${y} has ${days} days)`;
  }
  if (y < 1990) return `${s} is before 1990: a typo?`;
  if (s.length === 7 ? s > today.slice(0, 7) : s > today) return `${s} is in the future (today is ${today})`;
  return null;
}
