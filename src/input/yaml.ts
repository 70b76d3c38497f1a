// YAML from a user's file (lab plans): the first syntax error at its real line, alias expansion and
// nesting limited (an alias bomb or ten thousand nested brackets is refused at once, the limit named).
import type { Document, LineCounter } from "yaml";
import { yamlLib } from "../data/yaml-cache.js";
import { oneLine } from "./shown.js";
import { LIMITS } from "./limits.js";

export interface YamlProblem {
  readonly line: number;
  readonly message: string;
}

export interface ParsedYaml {
  readonly doc: Document.Parsed;
  readonly counter: LineCounter;
  /** the value, when there was no problem */
  readonly value: unknown;
  /** the first problem (syntax, alias limit or nesting limit), or null */
  readonly problem: YamlProblem | null;
}

/**
 * Deepest nesting of flow collections ([ and {) outside quotes and comments, with the line where the limit
 * is passed: checked before parsing, because the parser itself recurses on flow nesting.
 */
export function flowNesting(text: string, limit: number): { depth: number; overLine: number } {
  let depth = 0;
  let max = 0;
  let line = 1;
  let quote: string | null = null;
  let prev = "\n";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\n") line++;
    if (quote !== null) {
      if (quote === '"' && c === "\\") i++;
      else if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else quote = null;
      }
    } else if (c === "#" && (prev === " " || prev === "\t" || prev === "\n")) {
      const nl = text.indexOf("\n", i);
      if (nl < 0) break;
      i = nl - 1;
    } else if ((c === '"' || c === "'") && (depth > 0 || /[\s:[{,-]/.test(prev))) quote = c;
    else if (c === "[" || c === "{") {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return { depth: max, overLine: line };
      }
    } else if ((c === "]" || c === "}") && depth > 0) depth--;
    prev = c;
  }
  return { depth: max, overLine: -1 };
}

/** Depth of a parsed value (maps and lists), walked without recursion; stops once past `limit`. */
export function valueDepth(v: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== "object") continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Array.isArray(x) ? x : Object.values(x)) stack.push([child, d + 1]);
  }
  return max;
}

/** Parse YAML text with positions; never throws for bad input: the first problem is returned. */
export function parseYaml(text: string, limits: { aliases: number; nesting: number } = { aliases: LIMITS.yamlAliases, nesting: LIMITS.nesting }): ParsedYaml {
  // the yaml package loads here, on the first file that needs positions (data-cache.ts keeps it off start-up)
  const { LineCounter, parseDocument, visit } = yamlLib();
  const counter = new LineCounter();
  const flow = flowNesting(text, limits.nesting);
  const doc = parseDocument(flow.overLine >= 0 ? "" : text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const result = (value: unknown, problem: YamlProblem | null): ParsedYaml => ({ doc, counter, value, problem });
  if (flow.overLine >= 0) return result(undefined, { line: flow.overLine, message: `nested more than ${limits.nesting} levels deep (the limit)` });
  const first = doc.errors[0];
  if (first) {
    const line = counter.linePos(first.pos[0]).line;
    const msg = /call stack/i.test(first.message)
      ? `nested too deeply to read (limit ${limits.nesting} levels)`
      : /multiple documents/i.test(first.message)
        ? "a second YAML document starts here (---): one file holds one document"
        : `YAML syntax: ${oneLine(first.message, 160)}`;
    return result(undefined, { line, message: msg });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.aliases });
  } catch (e) {
    if (e instanceof ReferenceError && /excessive alias/i.test(e.message)) {
      return result(undefined, { line: 1, message: `expands YAML aliases more than the limit of ${limits.aliases} (an alias bomb?)` });
    }
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      let at: YamlProblem | null = null;
      visit(doc, {
        Alias(_key, node) {
          if (at === null && node.resolve(doc) === undefined) {
            at = { line: node.range ? counter.linePos(node.range[0]).line : 1, message: `YAML alias *${oneLine(node.source, 60)} has no anchor &${oneLine(node.source, 60)} before it` };
          }
        },
      });
      return result(undefined, at ?? { line: 1, message: `YAML: ${oneLine(e.message, 160)}` });
    }
    if (e instanceof RangeError) return result(undefined, { line: 1, message: `nested too deeply to read (limit ${limits.nesting} levels)` });
    return result(undefined, { line: 1, message: `YAML: ${oneLine((e as Error).message, 160)}` });
  }
  if (valueDepth(value, limits.nesting) > limits.nesting) return result(undefined, { line: 1, message: `nested more than ${limits.nesting} levels deep (the limit)` });
  return result(value, null);
}
