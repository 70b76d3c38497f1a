// Write a result to --out atomically (temp file + rename: never a half-written document), or to stdout.
// A device or pipe given as --out (/dev/null, /dev/full, a FIFO) is written in place, never replaced.
import fs from "node:fs";
import path from "node:path";
import { FitlabInputError } from "../errors.js";
import { describeFsError } from "../input/read.js";

/** A write that failed: a full disk is a failure of the machine (exit 1), anything else a bad --out (exit 2). */
function writeFailure(out: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT" || code === "EIO") {
    const err = new Error(`cannot write ${out}: no space left on the device`) as NodeJS.ErrnoException;
    err.code = code;
    err.path = out;
    return err;
  }
  return new FitlabInputError(`cannot write ${out}: it ${describeFsError(e).replace(/^cannot be read \(permission denied\)$/, "is not writable (permission denied)")}`);
}

export function writeOut(text: string, out: string | undefined): void {
  if (!out) {
    process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    return;
  }
  const body = text;
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(out);
  } catch {
    st = null;
  }
  if (st?.isDirectory()) throw new FitlabInputError(`cannot write ${out}: it is a folder, not a file`);
  if (st && !st.isFile()) {
    try {
      fs.writeFileSync(out, body);
    } catch (e) {
      throw writeFailure(out, e);
    }
    return;
  }
  const dir = path.dirname(path.resolve(out));
  let dirStat: fs.Stats | null = null;
  try {
    dirStat = fs.statSync(dir);
  } catch {
    dirStat = null;
  }
  if (!dirStat) throw new FitlabInputError(`cannot write ${out}: folder ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new FitlabInputError(`cannot write ${out}: ${dir} is a file, not a folder`);
  const tmp = path.join(dir, `.${path.basename(out)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, body);
    fs.renameSync(tmp, out);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing was written
    }
    throw writeFailure(out, e);
  }
}
