// Prices as data: dated, sourced, one figure per card; stale entries found on the day a document is written.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ageMonths, freshness, loadPriceBook } from "../../src/hardware/prices.js";
import { loadGpuCatalog } from "../../src/hardware/catalog.js";
import { inputError } from "../helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fitlab-prices-"));
const file = (name: string, text: string) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

describe("price book", () => {
  it("every purchase price has a date, a source and a card the catalog knows", () => {
    const book = loadPriceBook();
    const cat = loadGpuCatalog();
    expect(book.buy.length).toBeGreaterThanOrEqual(4);
    for (const b of book.buy) {
      expect(b.date).toMatch(/^\d{4}-\d{2}(-\d{2})?$/);
      expect(b.source.length).toBeGreaterThan(20);
      expect(b.source).not.toMatch(/mission brief/i);
      expect(cat.tryFind(b.gpu)).toBeDefined();
      if (b.rangeUsd) expect(b.priceUsd).toBeGreaterThanOrEqual(b.rangeUsd[0]);
    }
    expect(book.staleAfterMonths).toBe(6);
  });

  it("ages prices in whole months and flags those six months old or more", () => {
    expect(ageMonths("2026-05-16", "2026-11-30")).toBe(6);
    expect(ageMonths("2026-05-31", "2026-11-30")).toBe(5);
    expect(ageMonths("2026-06", "2026-11-30")).toBe(5);
    expect(freshness("2026-05-16", "2026-11-30", 6)).toBe("stale");
    expect(freshness("2026-06", "2026-11-30", 6)).toBe("fresh");
    expect(freshness(null, "2026-11-30", 6)).toBe("undated");
  });

  it("a user file replaces the same card and condition, adds offers, and keeps its own review date", () => {
    const f = file("p.yaml", 'reviewed: "2026-11-29"\nbuy:\n  - { gpu: GeForce RTX 3090, condition: used, price_usd: 600, date: "2026-11-20", source: "my local listing" }\ncloud:\n  - { gpu: GeForce RTX 3090, provider: Vast, usd_per_hour: 0.2, date: "2026-11-28", source: "vast.ai listing" }\n');
    const book = loadPriceBook(f);
    const p3090 = book.buy.filter((b) => b.gpu === "GeForce RTX 3090");
    expect(p3090).toHaveLength(1);
    expect(p3090[0]!.priceUsd).toBe(600);
    expect(book.cloud[0]!.provider).toBe("Vast");
    expect(book.reviewed).toBe("2026-11-29");
  });

  it("rejects a price outside its own range, and a malformed date, with one line naming the file line and field", () => {
    const bad = file("bad.yaml", "buy:\n  - { gpu: GeForce RTX 4090, condition: new, price_usd: 5000, range_usd: [1000, 2000], source: x }\n");
    expect(inputError(() => loadPriceBook(bad)).message).toMatch(/^prices file .*bad\.yaml line 2: buy\[0\]\.price_usd: GeForce RTX 4090 costs \$5000, outside its range \$1000-2000$/);
    const date = file("date.yaml", "buy:\n  - { gpu: GeForce RTX 4090, condition: new, price_usd: 1500, date: last week, source: x }\n");
    expect(inputError(() => loadPriceBook(date)).message).toMatch(/line 2: buy\[0\]\.date: expected a date YYYY-MM or YYYY-MM-DD, found "last week"/);
  });

  it("refuses what pass 1 let through: an inverted range, negative watts, an unknown card, a misspelt assumption, dates that do not exist or lie ahead", () => {
    const cases: [string, string, RegExp][] = [
      ["inverted.yaml", "buy:\n  - gpu: GeForce RTX 4090\n    condition: new\n    price_usd: 2500\n    range_usd: [2800, 2200]\n    source: x\n", /line 5: buy\[0\]\.range_usd: low \$2800 is above high \$2200/],
      ["watts.yaml", "assumptions:\n  host_run_watts:\n    value: -50\n    source: me\n", /line 3: assumptions\.host_run_watts\.value: must be between 0 and 5000 \(watts cannot be negative\), found -50/],
      ["idle.yaml", "assumptions:\n  card_idle_watts_consumer: { value: 1e6, source: me }\n", /line 2: assumptions\.card_idle_watts_consumer\.value: must be between 0 and 2000/],
      ["unknown.yaml", "cloud:\n  - { gpu: Voodoo 5 6000, provider: X, usd_per_hour: 1, source: s }\n", /line 2: cloud\[0\]\.gpu: unknown GPU "Voodoo 5 6000"/],
      ["typo.yaml", "assumptions:\n  electricty_usd_per_kwh: { value: 0.3, source: me }\n", /line 2: assumptions\.electricty_usd_per_kwh: unknown assumption .*did you mean electricity_usd_per_kwh\?/],
      ["feb30.yaml", "buy:\n  - { gpu: GeForce RTX 4090, condition: new, price_usd: 2500, date: \"2026-02-30\", source: x }\n", /2026-02-30 is not a day of the calendar/],
      ["month13.yaml", "reviewed: \"2026-13\"\n", /line 1: reviewed: 2026-13 has no month 13/],
      ["future.yaml", "buy:\n  - { gpu: GeForce RTX 4090, condition: new, price_usd: 2500, date: \"2026-12-01\", source: x }\n", /buy\[0\]\.date: 2026-12-01 is in the future \(today is 2026-11-30\)/],
      ["fraction.yaml", "assumptions:\n  resale_fraction_used: { value: 1.4, source: me }\n", /must be between 0 and 1, found 1\.4/],
    ];
    for (const [name, text, msg] of cases) expect(inputError(() => loadPriceBook(file(name, text), undefined, "2026-11-30")).message).toMatch(msg);
  });

  it("a card added by --gpu-file may be priced; /dev/zero and a folder are refused at once", () => {
    const gpus = file("gpus.yaml", "gpus:\n  - name: t4\n    aliases: [my-t4]\n");
    const f = file("mine.yaml", "buy:\n  - { gpu: my-t4, condition: used, price_usd: 300, source: me }\n");
    expect(inputError(() => loadPriceBook(f)).message).toMatch(/unknown GPU "my-t4"/);
    expect(loadPriceBook(f, loadGpuCatalog(gpus)).buy.some((b) => b.gpu === "my-t4")).toBe(true);
    expect(inputError(() => loadPriceBook("/dev/zero")).message).toMatch(/^prices file \/dev\/zero is not a regular file$/);
    expect(inputError(() => loadPriceBook(tmp)).message).toMatch(/is a folder, not a file$/);
  });
});
