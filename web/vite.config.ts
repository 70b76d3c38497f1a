// The dashboard's front end: Preact + uPlot + Observable Plot, built by Vite into dist/app, which the
// `fitlab ui` server reads (src/web/static.ts). `npm run build` (and so `npm ci`, through prepare) makes it.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  publicDir: "public",
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/app", import.meta.url)),
    emptyOutDir: true,
    // the CSP allows scripts from this origin only: no inline polyfill
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
});
