// `fitlab ui`: the dashboard. Prints `fitlab ui: http://127.0.0.1:PORT/?token=TOKEN` as its first line,
// then serves until interrupted. The server and everything behind it load only when this command runs.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { FitlabInputError } from "../errors.js";
import { Command } from "commander";
import { intArg } from "./options.js";

function openBrowser(url: string): void {
  const [cmd, args] = process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: "ignore", detached: true });
    child.on("error", () => {});
    child.unref();
  } catch {
    // no browser here: the printed URL is enough
  }
}

export function uiCommand(): Command {
  return new Command("ui")
    .description("the dashboard in the browser: plan (estimate, fit, decision), runs live, compare, on 127.0.0.1 with a token")
    .option("--port <n>", "port (0: a free one)", "8177")
    .option("--host <address>", "address to listen on; anything but loopback exposes your runs to the network", "127.0.0.1")
    .option("--runs <dir>", "run store folder (default ./runs or $FITLAB_RUNS)")
    .option("--no-open", "do not open a browser")
    .action(async (o: { port: string; host: string; runs?: string; open: boolean }) => {
      const port = intArg("--port", o.port, 0, 65535)!;
      const { runsDir } = await import("../runs/env.js");
      const dir = o.runs ? path.resolve(o.runs) : runsDir();
      // a store that cannot be one (a file, a foreign database) is refused now, not on the first page load
      const st = fs.statSync(dir, { throwIfNoEntry: false });
      if (st && !st.isDirectory()) throw new FitlabInputError(`cannot use ${dir} as the run store: it is a file, not a folder`);
      if (fs.existsSync(path.join(dir, "fitlab.sqlite"))) new (await import("../runs/store.js")).RunStore(dir).close();
      const { startUi } = await import("../web/server.js");
      const { isLoopback } = await import("../web/security.js");
      const ui = await startUi({ host: o.host, port, runsDir: dir });
      process.stdout.write(`fitlab ui: ${ui.url}\n`);
      process.stdout.write(`run store: ${dir}\n`);
      if (!isLoopback(o.host)) process.stderr.write(`warning: listening on ${o.host}: anyone who can reach it and has the token can read your runs\n`);
      if (o.open && process.stdout.isTTY) openBrowser(ui.url);
      await new Promise<void>((resolve) => {
        // open event streams keep timers and file watchers alive: once the server is closed (or after 2 s),
        // this process is done
        const stop = () => {
          setTimeout(() => process.exit(0), 2000).unref();
          void ui.close().then(() => {
            resolve();
            process.exit(0);
          });
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
