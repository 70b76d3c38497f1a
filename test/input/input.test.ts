// The input layer's pieces on their own: where a JSON or YAML error really is, UTF-8 checking against the
// platform decoder, nesting limits, shard confinement (and the Hugging Face cache layout it must allow),
// a worker's death described by its signal or exception rather than its last warning.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonErrorOffset, lineColumn, parseJsonText } from "../../src/input/json.js";
import { firstInvalidUtf8 } from "../../src/input/read.js";
import { parseYamlCached } from "../../src/data/yaml-cache.js";
import { flowNesting, parseYaml } from "../../src/input/yaml.js";
import { checkPlan } from "../../src/plan/load.js";
import { deathMessage } from "../../src/runs/worker.js";
import { readSafetensorsModel } from "../../src/spec/safetensors.js";
import { inputError } from "../helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-input-"));

describe("JSON errors are placed where they are", () => {
  const cases: [string, number, number][] = [
    ['{"a": 1,}', 1, 9],
    ['{\n  "a": 1,\n  "b": tru\n}', 3, 8],
    ['{"a": [1, 2}', 1, 12],
    ['{"a": "x\u0001"}', 1, 9],
    ['{"a": 1} x', 1, 10],
    ["", 1, 1],
  ];
  for (const [text, line, column] of cases) {
    it(`${JSON.stringify(text)} -> line ${line} column ${column}`, () => {
      expect(lineColumn(text, jsonErrorOffset(text))).toEqual({ line, column });
    });
  }
  it("accepts exactly what JSON.parse accepts (on generated JSON and its corruptions)", () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.string({ maxLength: 2 }), (j, at, junk) => {
        const text = j.slice(0, at % (j.length + 1)) + junk + j.slice(at % (j.length + 1));
        let ok = true;
        try {
          JSON.parse(text);
        } catch {
          ok = false;
        }
        expect(jsonErrorOffset(text) === -1).toBe(ok);
      }),
      { numRuns: 500 },
    );
  });
  it("never echoes the input: a NUL-laden file gives a printable line", () => {
    const msg = inputError(() => parseJsonText('{"a": \u0000\u0000}', "config.json")).message;
    expect(msg).toBe("config.json is not valid JSON: line 1 column 7, unexpected control character U+0000");
  });
});

describe("UTF-8", () => {
  it("finds the first invalid byte exactly where the platform's strict decoder fails", () => {
    const strict = new TextDecoder("utf-8", { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const at = firstInvalidUtf8(bytes);
        let valid = true;
        try {
          strict.decode(bytes);
        } catch {
          valid = false;
        }
        expect(at === -1).toBe(valid);
        if (at >= 0) {
          expect(() => strict.decode(bytes.subarray(0, at))).not.toThrow();
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("YAML", () => {
  it("reports a syntax error at its own line, not line 1", () => {
    const text = "fitlab_plan: 1\nname: x\ntracks:\n  - id: A\n    name: a\n    experiments:\n      - id: x\n        workload: { kind: qlora, seq: [1024 }\n";
    expect(parseYaml(text).problem?.line).toBe(8);
    const f = path.join(tmp, "syntax.yaml");
    fs.writeFileSync(f, text);
    const { problems } = checkPlan(f);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(8);
  });
  it("counts flow nesting outside quotes and comments only", () => {
    expect(flowNesting('a: "[[[[["\nb: [1, [2]] # [[[[[\n', 3)).toEqual({ depth: 2, overLine: -1 });
    expect(flowNesting("a: 1\nb: [[[[x]]]]\n", 3).overLine).toBe(2);
  });
  it("refuses an alias bomb before expanding it, naming the limit", () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
    const t0 = performance.now();
    expect(parseYaml(levels.join("\n")).problem?.message).toMatch(/aliases more than the limit of 100/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
  it("an unknown tag (!!js/function) prints no warning of the yaml package: fitlab's one line is all stderr gets", async () => {
    const warnings: string[] = [];
    const listen = (w: Error) => warnings.push(w.message);
    process.on("warning", listen);
    try {
      // the plan loader's fast path (a cached parse without positions) and the positioned parse
      const text = `n: ${Math.random()}\ndata: !!js/function 'return 1'\n`; // not in the parse cache yet
      expect(parseYamlCached(text)).toMatchObject({ data: "return 1" }); // a plain string, which the plan schema then refuses
      expect(parseYaml(text).problem).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 20)); // process.emitWarning fires on a later tick
    } finally {
      process.off("warning", listen);
    }
    expect(warnings).toEqual([]);
  });

  it("keeps plans with a few aliases working", () => {
    const r = parseYaml("base: &w { kind: qlora, seq: 512 }\nother: *w\n");
    expect(r.problem).toBeNull();
    expect(r.value).toEqual({ base: { kind: "qlora", seq: 512 }, other: { kind: "qlora", seq: 512 } });
  });
});

describe("sharded safetensors stay inside their folder", () => {
  const st = () => {
    const h = Buffer.from(JSON.stringify({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    return Buffer.concat([len, h, Buffer.alloc(8)]);
  };
  it("follows the Hugging Face cache layout (snapshots/<rev>/ links into blobs/)", () => {
    const repo = path.join(tmp, "models--acme--tiny");
    const snap = path.join(repo, "snapshots", "abc123");
    fs.mkdirSync(path.join(repo, "blobs"), { recursive: true });
    fs.mkdirSync(snap, { recursive: true });
    fs.writeFileSync(path.join(repo, "blobs", "sha-1"), st());
    fs.writeFileSync(path.join(repo, "blobs", "sha-idx"), JSON.stringify({ weight_map: { w: "model-00001-of-00001.safetensors" } }));
    fs.symlinkSync("../../blobs/sha-1", path.join(snap, "model-00001-of-00001.safetensors"));
    fs.symlinkSync("../../blobs/sha-idx", path.join(snap, "model.safetensors.index.json"));
    expect(readSafetensorsModel(snap).totalBytes).toBe(8);
  });
  it("refuses a link out of an ordinary folder, and ../ names", () => {
    const dir = path.join(tmp, "plain");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(tmp, "elsewhere.safetensors"), st());
    fs.symlinkSync(path.join(tmp, "elsewhere.safetensors"), path.join(dir, "a.safetensors"));
    fs.writeFileSync(path.join(dir, "model.safetensors.index.json"), JSON.stringify({ weight_map: { w: "a.safetensors" } }));
    expect(inputError(() => readSafetensorsModel(dir)).message).toMatch(/leads outside the model folder/);
    fs.writeFileSync(path.join(dir, "model.safetensors.index.json"), JSON.stringify({ weight_map: { w: "../elsewhere.safetensors" } }));
    expect(inputError(() => readSafetensorsModel(dir)).message).toMatch(/no "\.\."/);
  });
});

describe("a worker's death in one line", () => {
  const stderr = [
    "Traceback (most recent call last):",
    '  File "train.py", line 3, in run',
    "    loss.backward()",
    "RuntimeError: CUDA error: an illegal memory access was encountered",
    "/venv/lib/python3.11/site-packages/torch/utils/data.py:12: UserWarning: something unrelated",
  ].join("\n");
  it("names the exception of the traceback, not the last warning", () => {
    const m = deathMessage("train", 1, null, stderr, 12);
    expect(m).toBe("the worker exited with code 1 after step 12 before finishing train: RuntimeError: CUDA error: an illegal memory access was encountered");
  });
  it("names the signal of a killed worker, not its stderr", () => {
    const m = deathMessage("train", null, "SIGKILL", stderr, 7);
    expect(m).toMatch(/^the worker was killed by SIGKILL .* after step 7 before finishing train$/);
    expect(m).not.toMatch(/UserWarning|RuntimeError/);
  });
});
