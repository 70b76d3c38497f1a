// Check a run's data files before a run starts, so bad data never leaves a half-made run behind and never
// fails a training halfway: the same rules as the worker (engine/fitlab_worker/data.py, jobs/evaluate.py),
// each problem one line with the file and the line. Files are read in chunks (a dataset may be gigabytes).
import fs from "node:fs";
import { FitlabInputError } from "../errors.js";
import { isHubDataset, type DatasetSpec, type HubDataset } from "../plan/run-spec.js";

export { isHubDataset, looksLocal, type DatasetSpec, type EvalData, type HubDataset, type LocalDataset } from "../plan/run-spec.js";
import { LIMITS } from "../input/limits.js";
import { decodeText, describeFsError, statInputFile } from "../input/read.js";
import { shown } from "../input/shown.js";

export type DatasetFormat = "text" | "prompt_completion" | "messages";

const CHUNK = 1 << 20;

/** Call `onLine(text, lineNumber)` for every line of a file, each checked to be UTF-8 without NUL bytes. */
export function forEachLine(file: string, label: string, maxLineBytes: number, onLine: (line: string, n: number) => void): void {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    throw new FitlabInputError(`${label} ${describeFsError(e)}`);
  }
  try {
    const buf = Buffer.alloc(CHUNK);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let lineNo = 1;
    let pos = 0;
    const emit = (bytes: Buffer) => {
      // a BOM on the first line is not part of the data
      const body = lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
      const text = decodeText(body, label, lineNo);
      onLine(text.endsWith("\r") ? text.slice(0, -1) : text, lineNo);
      lineNo++;
    };
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, pos);
      if (n <= 0) break;
      pos += n;
      let start = 0;
      for (let nl = buf.indexOf(0x0a, 0); nl >= 0 && nl < n; nl = buf.indexOf(0x0a, start)) {
        const piece = buf.subarray(start, nl);
        if (pendingBytes + piece.length > maxLineBytes) throw new FitlabInputError(`${label} line ${lineNo}: longer than the ${maxLineBytes}-byte limit for one line`);
        emit(pendingBytes > 0 ? Buffer.concat([...pending, piece]) : Buffer.from(piece));
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
      }
      if (start < n) {
        const rest = Buffer.from(buf.subarray(start, n));
        pendingBytes += rest.length;
        if (pendingBytes > maxLineBytes) throw new FitlabInputError(`${label} line ${lineNo}: longer than the ${maxLineBytes}-byte limit for one line`);
        pending.push(rest);
      }
    }
    if (pendingBytes > 0) emit(Buffer.concat(pending));
  } finally {
    fs.closeSync(fd);
  }
}

function parseLine(line: string, label: string, n: number): Record<string, unknown> {
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch {
    throw new FitlabInputError(`${label} line ${n} is not valid JSON: fix or remove that line`);
  }
  if (typeof r !== "object" || r === null || Array.isArray(r)) throw new FitlabInputError(`${label} line ${n} is not a JSON object`);
  return r as Record<string, unknown>;
}

const blank = (s: string) => s.trim() === "";

/** One record's format, after checking it has something to learn from. */
function recordFormat(o: Record<string, unknown>, label: string, n: number): DatasetFormat {
  const at = `${label} line ${n}`;
  if (Array.isArray(o.messages)) {
    const msgs = o.messages as unknown[];
    if (msgs.length === 0) throw new FitlabInputError(`${at}: "messages" is empty`);
    msgs.forEach((m, k) => {
      if (typeof m !== "object" || m === null || Array.isArray(m)) throw new FitlabInputError(`${at}: message ${k + 1} is not an object with "role" and "content"`);
      const { role, content } = m as Record<string, unknown>;
      if (typeof role !== "string" || !["system", "user", "assistant", "tool"].includes(role)) throw new FitlabInputError(`${at}: message ${k + 1} has role ${shown(role)}; use system, user, assistant or tool`);
      if (typeof content !== "string") throw new FitlabInputError(`${at}: message ${k + 1} has no "content" text`);
    });
    const last = msgs[msgs.length - 1] as { role: string; content: string };
    if (last.role !== "assistant") throw new FitlabInputError(`${at}: the last message is the ${last.role}'s; a chat record must end with the assistant's turn (the loss is on it)`);
    if (blank(last.content)) throw new FitlabInputError(`${at}: the last assistant message is empty: nothing to learn from`);
    return "messages";
  }
  if (typeof o.prompt === "string" && typeof o.completion === "string") {
    if (blank(o.completion)) throw new FitlabInputError(`${at}: "completion" is empty: nothing to learn from`);
    return "prompt_completion";
  }
  if (typeof o.text === "string") {
    if (blank(o.text)) throw new FitlabInputError(`${at}: "text" is empty`);
    return "text";
  }
  if ("text" in o || "prompt" in o || "completion" in o || "messages" in o) {
    throw new FitlabInputError(`${at}: "text", "prompt"/"completion" must be strings and "messages" a list`);
  }
  throw new FitlabInputError(`${at} has no text field: give "text", "prompt"+"completion", or "messages"`);
}

/** A training or evaluation dataset: JSONL of text, prompt/completion or chat messages, one format per file. */
export function checkDataset(file: string): { format: DatasetFormat; records: number } {
  statInputFile(file, "dataset", LIMITS.datasetBytes);
  const label = `dataset ${file}`;
  let format: DatasetFormat | null = null;
  let formatLine = 0;
  let records = 0;
  forEachLine(file, label, LIMITS.datasetLineBytes, (line, n) => {
    if (!line.trim()) return;
    const kind = recordFormat(parseLine(line, label, n), label, n);
    if (format && kind !== format) throw new FitlabInputError(`${label} line ${n} is ${kind} but line ${formatLine} is ${format}: use one format per file`);
    if (!format) [format, formatLine] = [kind, n];
    records++;
  });
  if (!format) throw new FitlabInputError(`${label} is empty: it needs at least one JSON line`);
  return { format, records };
}

/** The worker's form of a dataset (snake_case keys, absolute paths). */
export function datasetForWorker(d: DatasetSpec, resolvePath: (p: string) => string): Record<string, unknown> {
  if (!isHubDataset(d)) return { train: resolvePath(d.train), eval: d.eval ? resolvePath(d.eval) : null, eval_fraction: d.evalFraction };
  const out: Record<string, unknown> = { hub: d.hub, eval_fraction: d.evalFraction };
  const keys: [keyof HubDataset, string][] = [["config", "config"], ["split", "split"], ["revision", "revision"], ["fields", "fields"], ["select", "select"], ["examples", "examples"], ["tokens", "tokens"], ["evalSplit", "eval_split"], ["evalExamples", "eval_examples"]];
  for (const [k, w] of keys) if (d[k] !== undefined) out[w] = d[k];
  return out;
}

/** Check what can be checked before a run starts: a local file's lines; a hub id's shape (the worker fetches it). */
export function checkDatasetSpec(d: DatasetSpec): void {
  if (isHubDataset(d)) return;
  checkDataset(d.train);
  if (d.eval) checkDataset(d.eval);
}

/** General text for perplexity: UTF-8, not empty. */
export function checkGeneralText(file: string): void {
  statInputFile(file, "general-text file", LIMITS.generalTextBytes);
  let chars = 0;
  forEachLine(file, `general-text file ${file}`, LIMITS.datasetLineBytes, (line) => {
    chars += line.trim().length;
  });
  if (chars === 0) throw new FitlabInputError(`general-text file ${file} is empty: perplexity needs some text`);
}

/** Multiple-choice JSONL: {question, choices, answer} with the answer an index into the choices. */
export function checkMultipleChoice(file: string): number {
  statInputFile(file, "multiple-choice file", LIMITS.multipleChoiceBytes);
  const label = `multiple-choice file ${file}`;
  let items = 0;
  forEachLine(file, label, LIMITS.datasetLineBytes, (line, n) => {
    if (!line.trim()) return;
    const o = parseLine(line, label, n);
    if (typeof o.question !== "string" || blank(o.question)) throw new FitlabInputError(`${label} line ${n}: "question" must be a non-empty string`);
    if (!Array.isArray(o.choices) || o.choices.length < 2 || !o.choices.every((c) => typeof c === "string" && !blank(c))) throw new FitlabInputError(`${label} line ${n}: "choices" must be a list of at least 2 non-empty strings`);
    if (typeof o.answer !== "number" || !Number.isInteger(o.answer) || o.answer < 0 || o.answer >= o.choices.length) {
      throw new FitlabInputError(`${label} line ${n}: "answer" must be the index of the right choice, 0 to ${o.choices.length - 1}, found ${shown(o.answer)}`);
    }
    items++;
  });
  if (items === 0) throw new FitlabInputError(`${label} is empty: it needs at least one question`);
  return items;
}
