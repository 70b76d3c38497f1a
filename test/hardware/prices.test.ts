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

  it("rejects a price outside its own range, and a malformed date, with one line", () => {
    const bad = file("bad.yaml", "buy:\n  - { gpu: GeForce RTX 4090, condition: new, price_usd: 5000, range_usd: [1000, 2000], source: x }\n");
    expect(inputError(() => loadPriceBook(bad)).message).toMatch(/buy\.0\.range_usd: GeForce RTX 4090 costs \$5000, outside its range/);
    const date = file("date.yaml", "buy:\n  - { gpu: GeForce RTX 4090, condition: new, price_usd: 1500, date: last week, source: x }\n");
    expect(inputError(() => loadPriceBook(date)).message).toMatch(/buy\.0\.date: expected YYYY-MM or YYYY-MM-DD/);
  });
});
