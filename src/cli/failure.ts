// What the CLI says, and which exit code it returns, for anything thrown: one printable line each time.
// Bad input (FitlabInputError, a path that is missing or a folder, a file that is not a run store) exits 2;
// a failure of the work itself (a full disk, a bug) exits 1.
import { FitlabInputError } from "../errors.js";
import { describeFsError } from "../input/read.js";
import { oneLine } from "../input/shown.js";

/** Node error codes that mean the user pointed fitlab at the wrong thing. */
const INPUT_CODES = new Set(["ENOENT", "EISDIR", "ENOTDIR", "EACCES", "EPERM", "ELOOP", "ENAMETOOLONG"]);
/** Node error codes that mean the machine could not do the work (the input was fine). */
const ENVIRONMENT_CODES = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO", "EMFILE", "ENFILE", "ENOMEM"]);

interface SystemError {
  code?: string;
  path?: string;
  syscall?: string;
  message?: string;
}

function isSqliteError(e: unknown): e is { code: string; message: string } {
  return typeof e === "object" && e !== null && (e as { name?: string }).name === "SqliteError";
}

export function messageOf(e: unknown): string {
  if (e instanceof FitlabInputError) return oneLine(e.message, 2000);
  const se = (e ?? {}) as SystemError;
  if (typeof se.code === "string" && (INPUT_CODES.has(se.code) || ENVIRONMENT_CODES.has(se.code))) {
    const what = se.path ? `${se.path} ` : "";
    if (se.code === "ENOSPC" || se.code === "EDQUOT") return `${what}${se.path ? "cannot be written" : "cannot write"}: no space left on the device`;
    return oneLine(`${what}${describeFsError(e)}`);
  }
  if (isSqliteError(e)) return oneLine(`the run store failed: ${e.message}`);
  if (e instanceof RangeError && /call stack/i.test(e.message)) return "internal error: input nested too deeply (maximum call stack size exceeded)";
  return `internal error: ${oneLine(e instanceof Error ? e.message : String(e))}`;
}

export function exitCodeOf(e: unknown): number {
  if (e instanceof FitlabInputError) return 2;
  const code = (e as SystemError | null)?.code;
  if (typeof code === "string" && INPUT_CODES.has(code)) return 2;
  if (isSqliteError(e) && /NOTADB|CORRUPT/.test(e.code)) return 2;
  return 1;
}
