#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ into dist/ by `npm ci` (prepare) or `npm run build`, which also
// bundles it into dist/cli-bundle (scripts/bundle-cli.mjs: fewer, larger files start faster). The bundle runs
// when it is at least as new as the compiled modules (a later `tsc` alone leaves it stale: then dist/cli runs);
// FITLAB_NO_BUNDLE=1 always runs the plain modules.
import { statSync } from "node:fs";

const bundle = new URL("../dist/cli-bundle/bin.js", import.meta.url);
const plain = new URL("../dist/cli/bin.js", import.meta.url);
function bundleIsFresh() {
  if (process.env.FITLAB_NO_BUNDLE) return false;
  try {
    return statSync(bundle).mtimeMs >= statSync(plain).mtimeMs;
  } catch {
    return false;
  }
}
await import(bundleIsFresh() ? bundle.href : plain.href);
