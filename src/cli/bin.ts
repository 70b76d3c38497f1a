// What bin/fitlab.js runs: the output guard, then the CLI. Its own module so that scripts/bundle-cli.mjs can
// bundle the CLI from it (one file per lazily loaded command instead of a hundred small modules).
import { main } from "./main.js";
import { guardOutputStreams } from "./streams.js";

// a closed pipe (`fitlab decide | head`) is quiet; a full disk behind `> file` is one line, exit 1
guardOutputStreams();
main(process.argv).then((code) => {
  process.exitCode = code;
});
