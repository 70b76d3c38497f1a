// The Inspect views in a real browser (Debian's chromium through playwright-core), against the real
// `fitlab ui` process: each kind's view opens; clicking a head in a layer x head heat map opens its attention
// map with the prompt's tokens on the axes, and hovering a cell names the token pair and shows the value the
// map file holds there (read here independently, with the worker's pooling rule for pooled bins). The runs
// are seeded with planted structure (test/fixtures/seed-inspect.mjs); one attention run comes from the real
// worker on a tiny model when the engine is set up. Each test ends with a screenshot under
// artifacts/screenshots/.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStore } from "../../src/runs/store.js";
import { readTensorBlock } from "../../src/runs/tensors.js";
import { seedAttentionRun, seedCompareRun, seedHiddenRun, seedProbeRun } from "../fixtures/seed-inspect.mjs";
import { fitlab, makeTiny, ready, writePrompts, WORDS } from "../inspect/worker-helpers.js";
import { CHROMIUM, launch, shot, watchErrors } from "./browser.js";
import { request, startUiProcess, type UiProcess } from "./ui-process.js";

const hasBrowser = fs.existsSync(CHROMIUM);
if (!hasBrowser && process.env.CI) throw new Error(`CI needs chromium at ${CHROMIUM} (.ci/run installs it)`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-ui-inspect-"));
const runs = path.join(tmp, "runs");
const dirs: Record<string, string> = {};
const ids: Record<string, string> = {};
let ui: UiProcess;
let browser: { ctx: BrowserContext; close: () => Promise<void> };
let page: Page;
let errors: string[];

const tokensOf = (dir: string, prompt: number): string[] => JSON.parse(fs.readFileSync(path.join(dir, `maps/prompt-${String(prompt).padStart(3, "0")}.json`), "utf8")).tokens;

/** Hover the middle of token cell (query q, key k) of the map `testid`, from the Plot frame's box. */
async function hoverCell(testid: string, q: number, k: number, T: number): Promise<{ query: string | null; key: string | null; value: string | null; text: string }> {
  await drawn(testid);
  const frame = page.locator(`[data-testid=${testid}] svg[data-map] [aria-label=frame]`);
  await frame.scrollIntoViewIfNeeded();
  const b = (await frame.boundingBox())!;
  await page.mouse.move(b.x + 2, b.y + 2);
  await page.mouse.move(b.x + ((k + 0.5) / T) * b.width, b.y + ((q + 0.5) / T) * b.height, { steps: 2 });
  const line = page.locator(`[data-testid=${testid}-hover]`);
  await expect.poll(() => line.getAttribute("data-query")).toBe(String(q));
  return { query: await line.getAttribute("data-query"), key: await line.getAttribute("data-key"), value: await line.getAttribute("data-value"), text: (await line.textContent()) ?? "" };
}

/** Wait until the map's drawing effect has drawn the props the figure now holds (data-drawn = data-want). */
async function drawn(testid: string): Promise<void> {
  await page.waitForFunction((id) => {
    const f = document.querySelector(`[data-testid=${id}]`);
    return !!f && !!f.getAttribute("data-want") && f.getAttribute("data-drawn") === f.getAttribute("data-want") && !!f.querySelector("svg[data-map]");
  }, testid);
}

/** The map's tick labels, as drawn for its current props. */
async function axisLabels(testid: string, axis: "x" | "y"): Promise<string[]> {
  await drawn(testid);
  return page.locator(`[data-testid=${testid}] svg[data-map] [aria-label="${axis}-axis tick label"] text`).allTextContents();
}

async function openHead(grid: string, layer: number, head: number): Promise<void> {
  await page.click(`[data-testid=${grid}] rect[data-layer="${layer}"][data-head="${head}"]`);
  await page.waitForSelector(`[data-testid=head-panel][data-loaded="${layer}.${head}"]`);
}

describe.runIf(hasBrowser)("the Inspect views in chromium", () => {
  beforeAll(async () => {
    const store = new RunStore(runs);
    // prompt 0: 300 tokens, pooled to 128 bins, head 1.2 also at full resolution; prompt 1: 16 tokens
    const att = seedAttentionRun(store, { prompts: [300, 16], full: ["1.2"] });
    const cmp = seedCompareRun(store, { changedFrom: 2 });
    const hid = seedHiddenRun(store, {});
    const prb = seedProbeRun(store, {});
    for (const [k, r] of Object.entries({ attention: att, compare: cmp, hidden: hid, probe: prb })) {
      ids[k] = r.id;
      dirs[k] = r.dir;
    }
    store.close();
    ui = await startUiProcess(runs);
    browser = await launch();
    page = await browser.ctx.newPage();
    errors = watchErrors(page);
    await page.goto(ui.url);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
  });

  it("attention: a heat map per statistic; a head's full-resolution map has the prompt's tokens on both axes and hover shows the file's value", async () => {
    await page.goto(`${ui.base}/#/runs/${ids.attention}`);
    await page.waitForSelector("[data-testid=inspect-attention]");
    for (const s of ["entropy", "mean_distance", "first_token_share", "prev_token_share", "self_share"]) await expect.poll(() => page.locator(`[data-testid=grid-${s}] rect[data-layer]`).count()).toBe(16);
    expect(await page.textContent("[data-testid=inspect-findings]")).toMatch(/L1H2 \(0\.90\)/);
    await page.waitForSelector("[data-testid=pick-a-head]");

    await openHead("grid-prev_token_share", 1, 2);
    expect(await page.textContent("[data-testid=head-stats]")).toMatch(/share on the previous token\s*0\.900/);
    // the named head opens at full resolution: 300 x 300
    expect(await page.getAttribute("[data-testid=map-attention]", "data-resolution")).toBe("full");
    expect(await page.getAttribute("[data-testid=map-attention]", "data-rows")).toBe("300");
    // the 16-token prompt: every token on both axes, in order
    await page.selectOption("[data-testid=map-prompt]", "1");
    await page.waitForSelector("[data-testid=head-panel][data-prompt='1'][data-loaded='1.2']");
    const tokens = tokensOf(dirs.attention!, 1);
    expect(tokens).toHaveLength(16);
    expect(await axisLabels("map-attention", "x")).toEqual(tokens);
    expect(await axisLabels("map-attention", "y")).toEqual(tokens);
    // hover query 7, key 6: the planted previous-token weight, as the file holds it
    const full = readTensorBlock(path.join(dirs.attention!, "maps/prompt-001.safetensors"), "full.1.2", []).data;
    const h = await hoverCell("map-attention", 7, 6, 16);
    expect(h.key).toBe("6");
    expect(Number(h.value)).toBe(full[7 * 16 + 6]);
    expect(Number(h.value)).toBeCloseTo(0.9, 3);
    expect(h.text).toContain(`query “${tokens[7]}” #7 → key “${tokens[6]}” #6: ${full[7 * 16 + 6]!.toFixed(4)}`);
    await shot(page, "inspect-attention-head");
    expect(errors).toEqual([]);
  });

  it("attention: the pooled map of a long prompt; hover names the token pair and the bin's tokens, with the bin's value", async () => {
    await page.selectOption("[data-testid=map-prompt]", "0");
    await page.selectOption("[data-testid=map-resolution]", "pooled");
    await page.waitForFunction(() => document.querySelector("[data-testid=map-attention]")?.getAttribute("data-resolution") === "pooled");
    expect(await page.getAttribute("[data-testid=map-attention]", "data-rows")).toBe("128");
    expect(await page.getAttribute("[data-testid=map-attention]", "data-tokens")).toBe("300");
    const tokens = tokensOf(dirs.attention!, 0);
    const labels = await axisLabels("map-attention", "x");
    expect(labels[0]).toBe("count");
    // evenly spaced tokens label the axis: each label is the token at its place
    const every = Math.ceil(300 / labels.length);
    expect(labels).toEqual(tokens.filter((_, i) => i % every === 0));
    // query 150, key 149: the worker puts token t in bin floor(t * 128 / 300) (interp/attention.py)
    const bin = (t: number) => Math.floor((t * 128) / 300);
    const pooled = readTensorBlock(path.join(dirs.attention!, "maps/prompt-000.safetensors"), "pooled", [1, 2]).data;
    const h = await hoverCell("map-attention", 150, 149, 300);
    expect([bin(150), bin(149)]).toEqual([64, 63]);
    expect(Number(h.value)).toBe(pooled[64 * 128 + 63]);
    expect(h.text).toContain(`query “${tokens[150]}” #150 → key “${tokens[149]}” #149`);
    expect(h.text).toContain("mean over query tokens 150–152 × key tokens 148–149");
    await shot(page, "inspect-attention-pooled");
    // another head, from another statistic's heat map: its pooled map (no full resolution kept for it)
    await openHead("grid-first_token_share", 2, 0);
    expect(await page.locator("[data-testid=map-resolution]").count()).toBe(0);
    const sink = readTensorBlock(path.join(dirs.attention!, "maps/prompt-000.safetensors"), "pooled", [2, 0]).data;
    const s = await hoverCell("map-attention", 200, 0, 300);
    expect(Number(s.value)).toBe(sink[bin(200) * 128 + 0]);
    expect(errors).toEqual([]);
  });

  it("compare: JS divergence and the change of each statistic per head, the LoRA update per module; a head's base, fine-tuned and difference maps", async () => {
    await page.goto(`${ui.base}/#/runs/${ids.compare}`);
    await page.waitForSelector("[data-testid=inspect-compare]");
    for (const m of ["js_divergence", "entropy_change", "first_token_share_change", "prev_token_share_change", "self_share_change", "mean_distance_change"]) await expect.poll(() => page.locator(`[data-testid=grid-${m}] rect[data-layer]`).count()).toBe(16);
    expect(await page.textContent("[data-testid=inspect-findings]")).toMatch(/attention is unchanged in layers 0-1 \(JS <= 0\.000001\) and changes from layer 2 on/);
    await expect.poll(() => page.locator("[data-testid=lora-update] svg [aria-label=cell] rect").count()).toBe(12);
    await openHead("grid-js_divergence", 2, 0);
    expect(await page.textContent("[data-testid=head-stats]")).toMatch(/first-token share\s*0\.600\s*0\.\d{3}\s*-0\.\d{3}/);
    const tokens = tokensOf(dirs.compare!, 0);
    for (const side of ["base", "tuned", "difference"]) expect(await axisLabels(`map-${side}`, "y")).toEqual(tokens);
    const at = (f: string) => readTensorBlock(path.join(dirs.compare!, `maps/prompt-000-${f}.safetensors`), "pooled", [2, 0]).data;
    const base = at("base");
    const tuned = at("tuned");
    const b = await hoverCell("map-base", 5, 0, 16);
    expect(Number(b.value)).toBe(base[5 * 16]);
    expect(Number(b.value)).toBeCloseTo(0.6, 3); // the planted sink, before fine-tuning
    const d = await hoverCell("map-difference", 5, 0, 16);
    expect(Number(d.value)).toBeCloseTo(tuned[5 * 16]! - base[5 * 16]!, 6);
    expect(Number(d.value)).toBeLessThan(-0.3);
    await shot(page, "inspect-compare-head");
    // a head before the change: the difference is zero everywhere
    await openHead("grid-js_divergence", 1, 2);
    const z = await hoverCell("map-difference", 3, 2, 16);
    expect(Number(z.value)).toBe(0);
    expect(errors).toEqual([]);
  });

  it("hidden: norms, anisotropy base vs fine-tuned, outlier dims, CKA matrix and base vs fine-tuned, the logit-lens table", async () => {
    await page.goto(`${ui.base}/#/runs/${ids.hidden}`);
    await page.waitForSelector("[data-testid=inspect-hidden]");
    for (const c of ["chart-norms", "chart-anisotropy", "chart-outliers", "chart-cka-tuned", "chart-cka"]) await page.waitForSelector(`[data-testid=${c}] svg`);
    expect(await page.textContent("[data-testid=inspect-findings]")).toMatch(/dim 17 is massive in every layer: up to 3,000x/);
    await expect.poll(() => page.locator("[data-testid=chart-cka] [aria-label=cell] rect").count()).toBe(25);
    expect(await page.textContent("[data-testid=chart-anisotropy]")).toMatch(/base/);
    const lens = page.locator("[data-testid=logit-lens]");
    expect(await lens.locator("tbody tr").count()).toBe(6); // embeddings, 4 layers, the next tokens
    expect(await lens.locator("tbody tr").first().locator("th").textContent()).toBe("embeddings");
    // from layer 1 (point 2) on, the seeded lens predicts the next token: outlined
    expect(await lens.locator("td.hit").count()).toBe(3 * 7);
    await page.selectOption("[data-testid=lens-prompt]", "1");
    await shot(page, "inspect-hidden");
    expect(errors).toEqual([]);
  });

  it("probe: accuracy, control and selectivity per layer, across checkpoints as curves and heat maps; another step on demand", async () => {
    await page.goto(`${ui.base}/#/runs/${ids.probe}`);
    await page.waitForSelector("[data-testid=inspect-probe]");
    for (const c of ["chart-probe", "chart-probe-curves", "chart-probe-selectivity", "chart-probe-accuracy"]) await page.waitForSelector(`[data-testid=${c}] svg`);
    await expect.poll(() => page.locator("[data-testid=chart-probe-selectivity] [aria-label=cell] rect").count()).toBe(15);
    const row = (name: string) => page.locator("[data-testid=probe-table] tbody tr", { hasText: name }).locator("td").allTextContents();
    expect(await row("layer 1")).toEqual(["layer 1", "1.000", "0.400", "0.600", "1.000", "0.580"]);
    await page.selectOption("[data-testid=probe-step]", "0");
    await expect.poll(() => row("layer 1")).toEqual(["layer 1", "1.000", "0.700", "0.300", "1.000", "0.580"]);
    await shot(page, "inspect-probe");
    expect(errors).toEqual([]);
  });

  it.runIf(ready)(
    "a real attention run (the worker, a tiny model with a planted head): the API sends what `fitlab inspect --json` printed, and its pooled map opens with its tokens",
    async () => {
      const model = path.join(tmp, "tiny-planted");
      await makeTiny(model, { num_layers: 3, max_positions: 400, plant: { prev_token_head: { layer: 1, head: 3, strength: 8 } } });
      // 150 tokens: pooled to 128 bins of one or two tokens
      const prompts = writePrompts(path.join(tmp, "prompts.txt"), [Array.from({ length: 150 }, (_, i) => WORDS[(i * 7) % WORDS.length]).join(" ")]);
      const res = fitlab(["inspect", "attention", "--model", model, "--prompts", prompts, "--device", "cpu", "--json"], runs);
      expect(res.code, res.err).toBe(0);
      const id = res.json.run_id as string;
      const api = await request(ui.port, "GET", `/api/runs/${id}/inspect`, { Authorization: `Bearer ${ui.token}` });
      expect(JSON.parse(api.body)).toEqual(res.json);
      await page.goto(`${ui.base}/#/runs/${id}`);
      await page.waitForSelector("[data-testid=inspect-attention]");
      expect(await page.textContent("[data-testid=inspect-findings]")).toMatch(/L1H3 \(1\.00\)/);
      await openHead("grid-prev_token_share", 1, 3);
      const dir = path.join(runs, id);
      const tokens = tokensOf(dir, 0);
      const T = tokens.length;
      expect(T).toBeGreaterThan(128);
      expect(await page.getAttribute("[data-testid=map-attention]", "data-rows")).toBe("128");
      expect((await axisLabels("map-attention", "y"))[0]).toBe(tokens[0]);
      const pooled = readTensorBlock(path.join(dir, "maps/prompt-000.safetensors"), "pooled", [1, 3]).data;
      const bin = (t: number) => Math.floor((t * 128) / T);
      const h = await hoverCell("map-attention", 100, 99, T);
      expect(Number(h.value)).toBe(pooled[bin(100) * 128 + bin(99)]);
      expect(h.text).toContain(`query “${tokens[100]}” #100 → key “${tokens[99]}” #99`);
      await shot(page, "inspect-attention-worker");
      expect(errors).toEqual([]);
    },
    240_000,
  );
});
