#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ into dist/ by `npm ci` (prepare) or `npm run build`.
import { main } from "../dist/cli/main.js";
import { guardOutputStreams } from "../dist/cli/streams.js";
// a closed pipe (`fitlab decide | head`) is quiet; a full disk behind `> file` is one line, exit 1
guardOutputStreams();
main(process.argv).then((code) => {
  process.exitCode = code;
});
