// fitlab's home folder (FITLAB_HOME, default ~/.fitlab): the worker's venv, and the cache of models fetched
// from the hub (hub/<owner>--<name>/).
import os from "node:os";
import path from "node:path";

export function fitlabHome(): string {
  return process.env.FITLAB_HOME ?? path.join(os.homedir(), ".fitlab");
}
