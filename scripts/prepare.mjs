#!/usr/bin/env node
// npm's prepare step: build dist/ (the CLI, its bundle and the dashboard) unless it is already newer than every
// file it is built from. npm runs prepare after `npm ci`, and again the first time `npx fitlab` runs in a
// checkout: npm exec installs a package whose own bin was asked for into its npx cache, running its prepare
// (libnpmexec: "we have to install the local package into the npx cache so that its bin links get set up").
// Rebuilding there cost ~14 s on the README's first command for nothing; a stale or missing output rebuilds.
// `npm run build` always builds.
// Usage: node scripts/prepare.mjs   (package.json "prepare")
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Newest modification time under `rel` (a file or a folder, recursively); 0 when absent. */
function newest(rel) {
  const p = path.join(root, rel);
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const e of fs.readdirSync(p)) max = Math.max(max, newest(path.join(rel, e)));
  return max;
}

/** Oldest modification time of the outputs; 0 when any is missing. */
function oldestOutput(rels) {
  let min = Infinity;
  for (const rel of rels) {
    try {
      min = Math.min(min, fs.statSync(path.join(root, rel)).mtimeMs);
    } catch {
      return 0;
    }
  }
  return min;
}

const inputs = ["src", "web/src", "web/index.html", "web/public", "web/vite.config.ts", "web/tsconfig.json", "tsconfig.json", "tsconfig.build.json", "package.json", "package-lock.json", "scripts/bundle-cli.mjs"];
const outputs = ["dist/cli/bin.js", "dist/cli-bundle/bin.js", "dist/cli-bundle/inputs.txt", "dist/app/index.html"];
const built = oldestOutput(outputs);
if (built > 0 && built >= Math.max(...inputs.map(newest))) {
  console.log("fitlab: dist/ is newer than its sources, not rebuilt (npm run build rebuilds)");
} else {
  const r = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  process.exit(r.status ?? 1);
}
