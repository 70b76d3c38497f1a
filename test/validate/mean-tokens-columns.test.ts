// The optional cases columns mean_tokens and length_grouped (unpacked data): read into the workload, and a bad
// value skips its row with the reason. Named rows: M069 and M073 (PEFT method_comparison on MetaMathQA, 210
// tokens per example from the source's own 'train total tokens' / 'train samples', BucketIterator batches).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readCases } from "../../src/validate/cases.js";

const FILE = fileURLToPath(new URL("../fixtures/cases-public.csv", import.meta.url));

describe("cases columns mean_tokens and length_grouped", () => {
  it("M073 and M069 carry 210 tokens per example in length-grouped batches; rows without the columns carry neither", () => {
    const { cases } = readCases(FILE);
    for (const id of ["M069", "M073"]) {
      const c = cases.find((x) => x.id === id)!;
      expect(c.workloadInput.meanTokens).toBe(210);
      expect(c.workloadInput.lengthGrouped).toBe(true);
    }
    const m006 = cases.find((x) => x.id === "M006")!;
    expect(m006.workloadInput.meanTokens).toBeUndefined();
    expect(m006.workloadInput.lengthGrouped).toBeUndefined();
  });

  it("a length_grouped that is not true/false skips its row with the reason", () => {
    const [header, ...rows] = readFileLines(FILE);
    const m073 = rows.find((l) => l.startsWith("M073,"))!;
    const bad = m073.replace(/,210,true$/, ",210,sometimes");
    expect(bad).not.toBe(m073);
    const dir = mkdtempSync(path.join(tmpdir(), "fitlab-cases-"));
    const f = path.join(dir, "cases.csv");
    writeFileSync(f, `${header}\n${bad}\n`);
    const { cases, rejected } = readCases(f);
    expect(cases).toHaveLength(0);
    expect(rejected[0]!.reason).toMatch(/length_grouped must be true or false/);
  });
});

function readFileLines(file: string): string[] {
  return readFileSync(file, "utf8").split("\n").filter((l: string) => l !== "");
}
