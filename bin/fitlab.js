#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ into dist/ by `npm ci` (prepare) or `npm run build`, which also
// bundles it into dist/cli-bundle (scripts/bundle-cli.mjs: a few chunks start faster than ~150 small modules).
// The bundle runs when it is at least as new as every compiled module it holds (dist/cli-bundle/inputs.txt), so
// a later `tsc` alone, even a partial one (--watch), runs the plain modules in dist/ instead of stale code;
// FITLAB_NO_BUNDLE=1 always runs the plain modules.
import { readFileSync, statSync } from "node:fs";

const dist = new URL("../dist/", import.meta.url);
const bundle = new URL("cli-bundle/bin.js", dist);
function bundleIsFresh() {
  if (process.env.FITLAB_NO_BUNDLE) return false;
  try {
    const built = statSync(bundle).mtimeMs;
    const inputs = readFileSync(new URL("cli-bundle/inputs.txt", dist), "utf8").split("\n").filter(Boolean);
    return inputs.length > 0 && inputs.every((f) => statSync(new URL(f, dist)).mtimeMs <= built);
  } catch {
    return false; // no bundle, or a module it holds is gone: the plain modules
  }
}
await import(bundleIsFresh() ? bundle.href : new URL("cli/bin.js", dist).href);
