// A zod issue in plain words, for one-line messages: "must be > 0", "must be one of linear, cosine",
// "unknown key "colour"", "expected a list, found text".
import type { z } from "zod";
import { shown } from "./shown.js";

const NOUNS: Record<string, string> = { object: "a map", array: "a list", string: "text", number: "a number", boolean: "true or false", int: "a whole number", null: "nothing", undefined: "nothing" };

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return `text ${shown(v)}`;
  return shown(v);
}

/** `input` is the value the issue is about (zod v4 does not keep it on the issue unless asked). */
export function zodIssueText(issue: z.core.$ZodIssue, input?: unknown): string {
  const i = issue as z.core.$ZodIssue & Record<string, unknown>;
  switch (issue.code) {
    case "invalid_type":
      return `expected ${NOUNS[String(i.expected)] ?? String(i.expected)}, found ${kindOf(input)}`;
    case "too_small": {
      const min = String(i.minimum);
      if (i.origin === "array") return `needs at least ${min} item${min === "1" ? "" : "s"}`;
      if (i.origin === "string") return min === "1" ? "must not be empty" : `needs at least ${min} characters`;
      return `must be ${i.inclusive ? "at least" : "more than"} ${min}, found ${shown(input)}`;
    }
    case "too_big": {
      const max = String(i.maximum);
      if (i.origin === "array") return `may have at most ${max} items`;
      if (i.origin === "string") return `may have at most ${max} characters`;
      return `must be ${i.inclusive ? "at most" : "less than"} ${max}, found ${shown(input)}`;
    }
    case "unrecognized_keys":
      return `unknown key${(i.keys as string[]).length > 1 ? "s" : ""} ${(i.keys as string[]).map((k) => shown(k)).join(", ")}`;
    case "invalid_value":
      return `must be ${(i.values as unknown[]).length === 1 ? shown((i.values as unknown[])[0]) : `one of ${(i.values as unknown[]).map((v) => String(v)).join(", ")}`}, found ${shown(input)}`;
    case "invalid_union": {
      // text or a map (a file or a hub set): when exactly one branch is of the value's type, its first problem
      const branches = (i.errors as z.core.$ZodIssue[][] | undefined) ?? [];
      const typed = branches.filter((b) => b.length > 0 && !(b[0]!.code === "invalid_type" && b[0]!.path.length === 0));
      if (typed.length === 1) {
        const sub = typed[0]![0]!;
        const where = sub.path.map(String).join(".");
        return `${where ? `${where}: ` : ""}${zodIssueText(sub, valueAt(input, sub.path))}`;
      }
      return issue.message.replace(/^Invalid input: /, "");
    }
    default:
      return issue.message.replace(/^Invalid input: /, "");
  }
}

/** The value at an issue's path inside `root`. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}
