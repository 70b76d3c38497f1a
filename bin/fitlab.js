#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ into dist/ by `npm ci` (prepare) or `npm run build`.
import { main } from "../dist/cli/main.js";
// a closed pipe (`fitlab decide | head`) is not an error
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
main(process.argv).then((code) => {
  process.exitCode = code;
});
