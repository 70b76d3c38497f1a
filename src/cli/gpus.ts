// `fitlab gpus`: the GPU catalog.
import { Command } from "commander";
import { loadGpuCatalog } from "../hardware/catalog.js";
import { gib, table } from "./format.js";
import { print } from "./output.js";

export function gpusCommand(): Command {
  return new Command("gpus")
    .description("list the GPU catalog (specs, prices, cloud offers, with sources and dates)")
    .option("--file <yaml>", "extra or overriding GPUs")
    .option("--json", "print the catalog")
    .action((o: { file?: string; json?: boolean }) => {
      const gpus = loadGpuCatalog(o.file).all();
      if (o.json) return print(gpus, true);
      const rows = gpus.map((g) => {
        const cheapest = [...g.cloud].sort((a, b) => a.usdPerHour - b.usdPerHour)[0];
        return [
          g.name,
          gib(g.usableBytes, 1),
          `${Math.round(g.memBandwidthBytesPerS / 1e9)} GB/s`,
          `${(g.bf16DenseFlopsPerS / 1e12).toFixed(0)} TFLOPS`,
          g.launchPriceUsd !== null ? `$${g.launchPriceUsd}` : "-",
          g.usedPriceUsd ? `$${g.usedPriceUsd.low}-${g.usedPriceUsd.high}` : "-",
          cheapest ? `$${cheapest.usdPerHour.toFixed(2)}/h ${cheapest.provider} ${cheapest.kind}` : "-",
        ];
      });
      print(table(["GPU", "usable", "bandwidth", "bf16 dense", "new", "used", "cheapest cloud"], rows), false);
    });
}
