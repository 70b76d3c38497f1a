// stdout and stderr failures: a closed pipe (`fitlab decide | head`) ends quietly; a full disk or any other
// write error behind `> file` is one line on stderr and exit 1, never a stack trace.
import { messageOf } from "./failure.js";

export function guardOutputStreams(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
    try {
      process.stderr.write(`fitlab: cannot write the output: ${messageOf({ code: e.code }).replace(/^cannot write: /, "")}\n`);
    } catch {
      // stderr is gone too: nothing left to tell
    }
    process.exit(1);
  });
  process.stderr.on("error", () => {
    // nowhere left to report to; the exit code still tells
  });
}
