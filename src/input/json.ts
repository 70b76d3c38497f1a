// JSON from a user's file: read under a size limit, nesting limited, and a syntax error reported at its
// line and column without echoing the text (V8's messages quote the input, NUL bytes and all).
import { FitlabInputError } from "../errors.js";
import { LIMITS } from "./limits.js";
import { readTextFile } from "./read.js";

/** Deepest nesting of [ and { outside strings, and the offset where the limit is first passed. */
export function jsonNesting(text: string, limit: number): { depth: number; overAt: number } {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return { depth: max, overAt: i };
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return { depth: max, overAt: -1 };
}

/** Offset of the first JSON syntax error (RFC 8259), or -1. Only called once JSON.parse has failed. */
export function jsonErrorOffset(text: string): number {
  const n = text.length;
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < n && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const str = () => {
    i++; // opening quote
    while (i < n) {
      const ch = text.charCodeAt(i);
      if (ch === 0x22) {
        i++;
        return;
      }
      if (ch === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 1;
            fail();
          }
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          i += 1;
          fail();
        }
        i += 2;
        continue;
      }
      if (ch < 0x20) fail();
      i++;
    }
    fail();
  };
  const num = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return str();
    for (const lit of ["true", "false", "null"]) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    num.lastIndex = i;
    const m = num.exec(text);
    if (!m) fail();
    i += m![0].length;
  };
  try {
    value();
    ws();
    if (i < n) fail();
    return -1;
  } catch (at) {
    if (typeof at === "number") return Math.min(at, n);
    throw at;
  }
}

/** "line 3 column 7" of an offset in a text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** What stands at an offset, for a message: a printable character, or a description. */
function found(text: string, offset: number): string {
  if (offset >= text.length) return "end of the file";
  const c = text[offset]!;
  if (c === "\n" || c === "\r") return "end of the line";
  if (/[\u0000-\u001f\u007f-\u009f]/.test(c)) return `control character U+${c.charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`;
  return `'${c}'`;
}

/** Parse JSON text; `label` names the file in messages. */
export function parseJsonText(text: string, label: string, nestingLimit: number = LIMITS.nesting): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const nest = jsonNesting(body, nestingLimit);
  if (nest.overAt >= 0) {
    const { line } = lineColumn(body, nest.overAt);
    throw new FitlabInputError(`${label} line ${line}: nested more than ${nestingLimit} levels deep (the limit)`);
  }
  try {
    return JSON.parse(body);
  } catch {
    if (body.trim() === "") throw new FitlabInputError(`${label} is empty, not JSON`);
    const at = jsonErrorOffset(body);
    const { line, column } = lineColumn(body, Math.max(at, 0));
    throw new FitlabInputError(`${label} is not valid JSON: line ${line} column ${column}, unexpected ${found(body, Math.max(at, 0))}`);
  }
}

/** Read and parse a JSON file under a size limit. */
export function readJsonFile(file: string, what: string, maxBytes: number): unknown {
  return parseJsonText(readTextFile(file, what, maxBytes), `${what} ${file}`);
}
