// Write a result to --out atomically (temp file + rename: never a half-written document), or to stdout.
import fs from "node:fs";
import path from "node:path";
import { FitlabInputError } from "../errors.js";

export function writeOut(text: string, out: string | undefined): void {
  if (!out) {
    process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    return;
  }
  const dir = path.dirname(path.resolve(out));
  if (!fs.existsSync(dir)) throw new FitlabInputError(`cannot write ${out}: folder ${dir} does not exist`);
  const tmp = path.join(dir, `.${path.basename(out)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new FitlabInputError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
