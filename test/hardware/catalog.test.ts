import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FitlabInputError } from "../../src/errors.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { inputError } from "../helpers.js";

const GIB = 2 ** 30;

/** The `gpu` column of shared/data/gpus.csv (15 rows), spelled exactly as there. */
const CSV_GPUS = [
  "GeForce RTX 5060 Ti 16GB",
  "GeForce RTX 4060 Ti 16GB",
  "GeForce RTX 3090",
  "GeForce RTX 4090",
  "GeForce RTX 4080 (16GB)",
  "GeForce RTX 5090",
  "NVIDIA A10G (AWS g5)",
  "NVIDIA L4",
  "NVIDIA T4",
  "NVIDIA L40S",
  "NVIDIA A100 40GB SXM4",
  "NVIDIA A100 80GB SXM4",
  "NVIDIA H100 80GB SXM5",
  "NVIDIA H100 80GB PCIe",
  "NVIDIA H200 141GB SXM",
];

/** CASES.md "GPUs and gpu_mem_gib": torch-reported usable GiB. */
const CASES_USABLE: Record<string, number> = {
  "NVIDIA A100 80GB SXM4": 79.32,
  "NVIDIA A100 40GB SXM4": 39.56,
  "NVIDIA T4": 14.75,
  "NVIDIA L40S": 44.52,
  "GeForce RTX 4090": 23.53,
  "GeForce RTX 3090": 23.69,
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-gpus-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
function userFile(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

describe("built-in GPU catalog", () => {
  const cat = loadGpuCatalog();

  it("has every gpus.csv GPU under its exact name, plus the A100 80GB PCIe", () => {
    const names = cat.all().map((g) => g.name);
    for (const n of CSV_GPUS) expect(names).toContain(n);
    expect(names).toContain("NVIDIA A100 80GB PCIe");
    expect(new Set(names).size).toBe(names.length);
  });

  it("is cached", () => {
    expect(loadGpuCatalog()).toBe(cat);
  });

  it("converts to integer base units", () => {
    const g = cat.find("GeForce RTX 4090");
    expect(g.bf16DenseFlopsPerS).toBe(165.2e12);
    expect(g.memBandwidthBytesPerS).toBe(1008e9);
    expect(g.vramBytesNominal).toBe(24 * GIB);
    expect(cat.find("NVIDIA A100 80GB SXM4").usableBytes).toBe(Math.round(79.32 * GIB));
    for (const x of cat.all()) {
      for (const v of [x.vramBytesNominal, x.usableBytes, x.memBandwidthBytesPerS, x.bf16DenseFlopsPerS]) {
        expect(Number.isSafeInteger(v)).toBe(true);
      }
      expect(x.usableBytes).toBeLessThanOrEqual(x.vramBytesNominal);
    }
  });

  it("uses CASES.md usable memory where given and 0.97 x nominal elsewhere", () => {
    for (const [n, gib] of Object.entries(CASES_USABLE)) {
      const g = cat.find(n);
      expect(g.usableBytes).toBe(Math.round(gib * GIB));
      expect(g.usableSource).toBe("torch-reported");
    }
    const h100 = cat.find("h100 sxm");
    expect(h100.usableSource).toBe("derived");
    expect(h100.usableBytes).toBe(Math.round(80 * 0.97 * GIB));
  });

  it("keeps the FP32-accumulate (halved) rate for GeForce and FP16 for T4", () => {
    expect(cat.find("3090").bf16DenseFlopsPerS).toBe(71e12);
    expect(cat.find("5090").bf16DenseFlopsPerS).toBe(209.5e12);
    const t4 = cat.find("t4");
    expect(t4.bf16DenseFlopsPerS).toBe(65e12);
    expect(t4.bf16Native).toBe(false);
    expect(cat.find("A100 80GB PCIe").measuredMatmulFlopsPerS).toBe(252.9e12);
    expect(cat.find("a100-80gb").measuredMatmulFlopsPerS).toBe(271.2e12);
  });

  it("has the purchase prices the decision document needs, with sources", () => {
    expect(cat.find("4090").launchPriceUsd).toBe(1599);
    expect(cat.find("5090").launchPriceUsd).toBe(1999);
    expect(cat.find("rtx 5060 ti").launchPriceUsd).toBe(429);
    expect(cat.find("3090").usedPriceUsd).toMatchObject({ low: 500, high: 800 });
    const a100 = cat.find("A100 40GB").usedPriceUsd;
    expect(a100).toMatchObject({ low: 5000, high: 8000, source: "fitlab mission brief, 2026" });
    for (const g of cat.all()) {
      expect(g.specSource.length).toBeGreaterThan(0);
      if (g.launchPriceUsd !== null || g.cloud.length > 0) expect(g.priceSource.length).toBeGreaterThan(0);
      for (const c of g.cloud) {
        expect(c.source.length).toBeGreaterThan(0);
        expect(c.usdPerHour).toBeGreaterThan(0);
      }
    }
    expect(cat.find("3090").cloud).toContainEqual(
      expect.objectContaining({ provider: "RunPod", usdPerHour: 0.22, kind: "spot", date: "2026-03" }),
    );
  });

  it("resolves aliases case- and punctuation-insensitively", () => {
    expect(cat.find("rtx 5060 ti").name).toBe("GeForce RTX 5060 Ti 16GB");
    expect(cat.find("5060ti").name).toBe("GeForce RTX 5060 Ti 16GB");
    expect(cat.find("A100 80GB").name).toBe("NVIDIA A100 80GB SXM4");
    expect(cat.find("a100-80gb").name).toBe("NVIDIA A100 80GB SXM4");
    expect(cat.find("4090").name).toBe("GeForce RTX 4090");
    expect(cat.find("NVIDIA GeForce RTX 4090").name).toBe("GeForce RTX 4090");
    expect(cat.find("RTX-4090").name).toBe("GeForce RTX 4090");
    expect(cat.find("h100 sxm").name).toBe("NVIDIA H100 80GB SXM5");
    expect(cat.find("4070").name).toBe("GeForce RTX 4070"); // exact alias before any prefix
    expect(cat.find("4070 ti").name).toBe("GeForce RTX 4070 Ti");
    expect(cat.find("rtx 5070 t").name).toBe("GeForce RTX 5070 Ti"); // unique prefix
    expect(cat.find("T4").name).toBe("NVIDIA T4");
    expect(cat.find("Tesla T4").name).toBe("NVIDIA T4");
    expect(cat.find("GeForce RTX 4080 (16GB)").name).toBe("GeForce RTX 4080 (16GB)");
    expect(cat.find("geforce rtx 4080 16gb").name).toBe("GeForce RTX 4080 (16GB)");
    expect(cat.tryFind("no such card")).toBeUndefined();
  });

  it("suggests the closest names for an unknown GPU, ranked by similarity", () => {
    const e = inputError(() => cat.find("rtx 4095"));
    expect(e.message).toMatch(/^unknown GPU "rtx 4095"; closest: GeForce RTX 4090/);
    expect(e.message).not.toContain("\n");
    // one rule for every name: A100 and H100 are both ambiguous, never silently one of them
    const h = inputError(() => cat.find("h100")).message;
    expect(h).toMatch(/^GPU "h100" is ambiguous: it matches /);
    for (const n of ["NVIDIA H100 80GB SXM5", "NVIDIA H100 80GB PCIe", "NVIDIA H100 NVL 94GB"]) expect(h).toContain(n);
    expect(e.message).not.toContain("\n");
    const a = inputError(() => cat.find("a100")).message;
    expect(a).toContain("NVIDIA A100 80GB SXM4");
    expect(a).toContain("NVIDIA A100 40GB SXM4");
    expect(a).toContain("NVIDIA A100 80GB PCIe");
  });
});

describe("cards named by benchmark tables", () => {
  const cat = loadGpuCatalog();
  it("resolves the names tables and torch use, each to the card meant", () => {
    const cases: [string, string][] = [
      ["A6000", "NVIDIA RTX A6000 48GB"],
      ["NVIDIA RTX A6000", "NVIDIA RTX A6000 48GB"],
      ["A6000 Ada", "NVIDIA RTX 6000 Ada 48GB"],
      ["NVIDIA RTX 6000 Ada Generation", "NVIDIA RTX 6000 Ada 48GB"],
      ["RTX A5000", "NVIDIA RTX A5000 24GB"],
      ["A10", "NVIDIA A10 24GB"],
      ["A10G", "NVIDIA A10G (AWS g5)"],
      ["L40", "NVIDIA L40 48GB"],
      ["L40S", "NVIDIA L40S"],
      ["Tesla V100-SXM2-32GB", "NVIDIA V100 32GB SXM2"],
      ["Tesla V100-PCIE-16GB", "NVIDIA V100 16GB PCIe"],
      ["A800-SXM4-80GB", "NVIDIA A800 80GB SXM4"],
      ["H800", "NVIDIA H800 80GB SXM5"],
      ["NVIDIA GH200 480GB", "NVIDIA GH200 96GB"],
      ["4060", "GeForce RTX 4060 8GB"],
      ["4060 Ti", "GeForce RTX 4060 Ti 16GB"],
      ["3080", "GeForce RTX 3080 (10GB)"],
      ["3080 Ti", "GeForce RTX 3080 Ti"],
      ["4090", "GeForce RTX 4090"],
    ];
    for (const [q, name] of cases) expect(cat.find(q).name, q).toBe(name);
    // V100 comes in four cards (SXM2/PCIe x 16/32 GB) with different rates: never silently one of them
    expect(inputError(() => cat.find("V100")).message).toMatch(/is ambiguous/);
  });
  it("keeps Volta and Turing cards off bf16, with their FP16 tensor rate", () => {
    for (const n of ["NVIDIA V100 32GB SXM2", "GeForce RTX 2080 Ti"]) expect(cat.find(n).bf16Native).toBe(false);
    expect(cat.find("NVIDIA V100 32GB SXM2").bf16DenseFlopsPerS).toBe(125e12); // NVIDIA: 125 tensor TFLOPS (SXM2)
    expect(cat.find("NVIDIA V100 32GB PCIe").bf16DenseFlopsPerS).toBe(112e12); // PCIe card: lower clocks
  });
});

describe("user GPU file", () => {
  const newCard = `
gpus:
  - name: My RTX 3050 8GB
    aliases: ["3050"]
    arch: Ampere GA106
    compute_capability: "8.6"
    mem_type: GDDR6
    vram_gib_nominal: 12
    usable_gib: 11.76
    usable_source: torch-reported
    mem_bandwidth_gbps: 360
    bf16_dense_tflops: 25.4
    bf16_native: true
    measured_matmul_tflops: null
    class: consumer
    tdp_w: 170
    launch_date: "2021-02"
    launch_price_usd: 329
    used_price_usd: { low: 180, high: 250 }
    cloud: []
    spec_source: me
    price_source: me
    notes: ""
  - name: rtx 4090
    used_price_usd: { low: 1400, high: 1700, source: local shop }
    cloud:
      - { provider: Vast, usd_per_hour: 0.31, kind: spot, date: "2026-11", source: vast.ai }
`;

  it("adds a card and overrides an existing one field by field", () => {
    const cat = loadGpuCatalog(userFile("ok.yaml", newCard));
    expect(cat.all().length).toBe(loadGpuCatalog().all().length + 1);
    const mine = cat.find("3050");
    expect(mine.name).toBe("My RTX 3050 8GB");
    expect(mine.usableBytes).toBe(Math.round(11.76 * GIB));
    const g = cat.find("GeForce RTX 4090");
    expect(g.usedPriceUsd).toEqual({ low: 1400, high: 1700, source: "local shop" });
    expect(g.cloud).toEqual([{ provider: "Vast", usdPerHour: 0.31, kind: "spot", date: "2026-11", source: "vast.ai" }]);
    expect(g.launchPriceUsd).toBe(1599); // untouched fields kept
    expect(g.bf16DenseFlopsPerS).toBe(165.2e12);
    // the built-in catalog is not modified
    expect(loadGpuCatalog().find("4090").usedPriceUsd).toBeNull();
    expect(loadGpuCatalog().tryFind("3050")).toBeUndefined();
  });

  it("rejects bad YAML with the file name", () => {
    const p = userFile("bad-yaml.yaml", "gpus:\n  - name: [unclosed\n");
    const e = inputError(() => loadGpuCatalog(p));
    expect(e.message).toContain(p);
    expect(e.message).toMatch(/line \d+: YAML syntax: Flow sequence/);
    expect(e.message).not.toContain("\n");
  });

  it("rejects schema errors with the file name and the path of the first problem", () => {
    const p = userFile("bad-kind.yaml", `gpus:\n  - name: 4090\n    cloud: [{ provider: X, usd_per_hour: 1, kind: reserved, date: "2026-01", source: s }]\n`);
    const e = inputError(() => loadGpuCatalog(p));
    expect(e.message).toContain(p);
    expect(e.message).toContain("gpus[0]");
    expect(e.message).toContain("cloud[0].kind");

    const q = userFile("bad-type.yaml", `gpus:\n  - name: t4\n    usable_gib: "lots"\n`);
    expect(inputError(() => loadGpuCatalog(q)).message).toMatch(/gpus\[0\].*usable_gib/);

    const r = userFile("incomplete.yaml", `gpus:\n  - name: Brand New GPU\n    vram_gib_nominal: 8\n`);
    expect(inputError(() => loadGpuCatalog(r)).message).toContain("Brand New GPU");

    const s = userFile("typo.yaml", `gpus:\n  - name: t4\n    usable_gb: 14\n`);
    expect(inputError(() => loadGpuCatalog(s)).message).toContain("usable_gb");

    const t = userFile("no-list.yaml", `- name: t4\n`);
    expect(inputError(() => loadGpuCatalog(t)).message).toContain(t);
  });

  it("ranges and dates: one line with the file line and the field; a device is refused before it is read", () => {
    const cases: [string, string, RegExp][] = [
      ["vram.yaml", "gpus:\n  - name: rtx 4090\n    vram_gib_nominal: 1e9\n", /line 3: gpus\[0\]\.vram_gib_nominal: must be at most 4096, found 1000000000/],
      ["tdp.yaml", "gpus:\n  - name: rtx 4090\n    tdp_w: -450\n", /line 3: gpus\[0\]\.tdp_w: must be more than 0, found -450/],
      ["usable.yaml", "gpus:\n  - name: rtx 4090\n    usable_gib: 30\n", /line 3: gpus\[0\]\.usable_gib: usable_gib \(30\) exceeds vram_gib_nominal \(24\)/],
      ["cloud.yaml", "gpus:\n  - name: rtx 4090\n    cloud: [{ provider: X, usd_per_hour: 0.5, kind: spot, date: \"2026-02-31\", source: s }]\n", /gpus\[0\]\.cloud\[0\]\.date: 2026-02-31 is not a day of the calendar/],
      ["future.yaml", "gpus:\n  - name: rtx 4090\n    cloud: [{ provider: X, usd_per_hour: 0.5, kind: spot, date: \"2099-01\", source: s }]\n", /cloud\[0\]\.date: 2099-01 is in the future/],
      ["cc.yaml", "gpus:\n  - name: rtx 4090\n    compute_capability: \"99.0\"\n", /compute_capability: "99.0" is no CUDA compute capability/],
      ["unknown-key.yaml", "gpus:\n  - name: rtx 4090\n    colour: red\n", /line 3: gpus\[0\]\.colour: unknown key "colour"/],
    ];
    for (const [name, text, msg] of cases) expect(inputError(() => loadGpuCatalog(userFile(name, text))).message).toMatch(msg);
    expect(inputError(() => loadGpuCatalog("/dev/zero")).message).toBe("GPU file /dev/zero is not a regular file");
  });

  it("rejects an alias that already names another GPU, and a missing file", () => {
    const p = userFile("clash.yaml", `gpus:\n  - name: t4\n    aliases: ["4090"]\n`);
    expect(inputError(() => loadGpuCatalog(p)).message).toContain('"4090"');
    const missing = path.join(tmp, "nope.yaml");
    expect(inputError(() => loadGpuCatalog(missing)).message).toContain(missing);
  });
});
