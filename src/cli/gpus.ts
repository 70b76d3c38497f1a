// `fitlab gpus`: the GPU catalog, with what each card sustains and the same dated street price `decide` uses.
import { Command } from "commander";
import { cheapestOnDemand } from "../decide/options.js";
import { loadGpuCatalog } from "../hardware/catalog.js";
import { freshness, loadPriceBook, today } from "../hardware/prices.js";
import { sustainedMatmul } from "../hardware/sustained.js";
import { count, gib, table } from "./format.js";
import { print } from "./output.js";

/** The object `fitlab gpus --json` prints and the dashboard receives: each card with its sustained rate and street prices. */
export function gpuList(o: { file?: string; prices?: string } = {}) {
  const catalog = loadGpuCatalog(o.file);
  const book = loadPriceBook(o.prices, catalog);
  const asOf = today();
  return catalog.all().map((g) => {
    const s = sustainedMatmul(g);
    const streetPrices = book.buy
      .filter((b) => catalog.tryFind(b.gpu)?.name === g.name)
      .map((b) => ({ condition: b.condition, price_usd: b.priceUsd, range_usd: b.rangeUsd, date: b.date, freshness: freshness(b.date, asOf, book.staleAfterMonths), source: b.source }));
    return { ...g, sustainedFlopsPerS: Math.round(s.flopsPerS), sustainedBasis: s.basis, sustainedDetail: s.detail, streetPrices };
  });
}

export function gpusCommand(): Command {
  return new Command("gpus")
    .description("list the GPU catalog (specs, prices, cloud offers, with sources and dates)")
    .option("--file <yaml>", "extra or overriding GPUs")
    .option("--prices <yaml>", "street prices overriding data/prices.yaml (as for `fitlab decide`)")
    .option("--json", "print the catalog")
    .action((o: { file?: string; prices?: string; json?: boolean }) => {
      const catalog = loadGpuCatalog(o.file);
      const book = loadPriceBook(o.prices, catalog);
      const asOf = today();
      const street = (name: string) =>
        book.buy
          .filter((b) => catalog.tryFind(b.gpu)?.name === name)
          .map((b) => ({ condition: b.condition, price_usd: b.priceUsd, range_usd: b.rangeUsd, date: b.date, freshness: freshness(b.date, asOf, book.staleAfterMonths), source: b.source }));
      const gpus = catalog.all();
      if (o.json) return print(gpuList(o), true);
      const rows = gpus.map((g) => {
        const cheapest = cheapestOnDemand(g, catalog, book);
        const s = sustainedMatmul(g);
        const st = street(g.name);
        return [
          g.name,
          gib(g.usableBytes, 2),
          `${Math.round(g.memBandwidthBytesPerS / 1e9)} GB/s`,
          `${(g.bf16DenseFlopsPerS / 1e12).toFixed(0)} TFLOPS`,
          `${(s.flopsPerS / 1e12).toFixed(0)} TFLOPS${s.basis === "rule" ? " (rule)" : ""}`,
          st.length ? st.map((p) => `$${count(p.price_usd)} ${p.condition} (${p.date ?? "undated"}${p.freshness === "stale" ? ", stale" : ""})`).join("; ") : "-",
          g.launchPriceUsd !== null ? `$${count(g.launchPriceUsd)}` : "-",
          cheapest ? `$${cheapest.usdPerHour.toFixed(2)}/h ${cheapest.provider} (${cheapest.date ?? "undated"}${freshness(cheapest.date, asOf, book.staleAfterMonths) === "stale" ? ", stale" : ""})` : "-",
        ];
      });
      print(table(["GPU", "usable", "bandwidth", "bf16 datasheet", "sustained", "street price (date)", "launch MSRP", "cloud on-demand, cheapest"], rows), false);
      const stale = gpus.flatMap((g) => street(g.name)).filter((p) => p.freshness !== "fresh").length;
      if (stale) print(`\n${stale} street price${stale > 1 ? "s are" : " is"} more than ${book.staleAfterMonths} months old or undated (data/prices.yaml; --prices FILE replaces them).`, false);
    });
}
