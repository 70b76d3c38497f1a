// The run store: SQLite (better-sqlite3, WAL, so several fitlab processes can write at once) as the
// index, plus one folder per run holding the resolved config, the planner's estimate, metrics.jsonl,
// checkpoints and results. A run appears in the index only after its folder is complete.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { FitlabInputError } from "../errors.js";
import { describeFsError } from "../input/read.js";
import { runsDir } from "./env.js";

/** running; done; failed (with error_kind and error); oom (a CUDA out-of-memory, with the measured peak and the
 * cheapest change that fits as the suggestion). A running run whose process is gone shows as "interrupted". */
export type RunStatus = "running" | "done" | "failed" | "oom";
export const RUN_STATUSES: readonly RunStatus[] = ["running", "done", "failed", "oom"];

/** What a run did: train (Track A) or one of the inspection jobs (Tracks B and C), or an evaluation. */
export type RunKind = "train" | "evaluate" | "attention" | "compare" | "hidden" | "probe";
export const RUN_KINDS: readonly RunKind[] = ["train", "evaluate", "attention", "compare", "hidden", "probe"];

export interface RunRecord {
  readonly id: string;
  readonly kind: RunKind;
  readonly name: string;
  /** the run this one reads (the training run whose checkpoints a probe follows, the adapter a comparison uses) */
  readonly parent_run: string | null;
  readonly experiment: string | null;
  readonly sweep: string | null;
  readonly sweep_value: string | null;
  readonly status: RunStatus;
  readonly created_at: string;
  readonly finished_at: string | null;
  readonly pid: number | null;
  readonly dir: string;
  readonly model: string;
  readonly method: string;
  readonly device: string | null;
  readonly predicted_allocated_bytes: number | null;
  readonly predicted_reserved_bytes: number | null;
  readonly predicted_tokens_per_s: number | null;
  readonly measured_allocated_bytes: number | null;
  readonly measured_reserved_bytes: number | null;
  readonly measured_tokens_per_s: number | null;
  /** device level (nvidia-smi: reserved + CUDA context + workspaces): the planner's and NVML's (schema v3) */
  readonly predicted_device_bytes: number | null;
  readonly measured_device_bytes: number | null;
  /** the card the run ran on, as CUDA names it (schema v3) */
  readonly gpu: string | null;
  readonly initial_eval_loss: number | null;
  readonly final_eval_loss: number | null;
  readonly best_eval_loss: number | null;
  readonly steps: number | null;
  readonly error_kind: string | null;
  readonly error: string | null;
  readonly suggestion: string | null;
}

// Schema version 3 (PRAGMA user_version): version 1 had no kind/parent_run and a narrower status check;
// version 2 had no device-level memory (predicted_device_bytes, measured_device_bytes) and no gpu name.
const SCHEMA_VERSION = 3;
const V3_COLUMNS = ["predicted_device_bytes INTEGER", "measured_device_bytes INTEGER", "gpu TEXT"];
const TABLE = (name: string) => `
CREATE TABLE IF NOT EXISTS ${name} (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL DEFAULT 'train' CHECK (kind IN (${RUN_KINDS.map((k) => `'${k}'`).join(",")})),
  name TEXT NOT NULL,
  parent_run TEXT,
  experiment TEXT,
  sweep TEXT,
  sweep_value TEXT,
  status TEXT NOT NULL CHECK (status IN (${RUN_STATUSES.map((k) => `'${k}'`).join(",")})),
  created_at TEXT NOT NULL,
  finished_at TEXT,
  pid INTEGER,
  dir TEXT NOT NULL,
  model TEXT NOT NULL,
  method TEXT NOT NULL,
  device TEXT,
  predicted_allocated_bytes INTEGER,
  predicted_reserved_bytes INTEGER,
  predicted_tokens_per_s REAL,
  measured_allocated_bytes INTEGER,
  measured_reserved_bytes INTEGER,
  measured_tokens_per_s REAL,
  predicted_device_bytes INTEGER,
  measured_device_bytes INTEGER,
  gpu TEXT,
  initial_eval_loss REAL,
  final_eval_loss REAL,
  best_eval_loss REAL,
  steps INTEGER,
  error_kind TEXT,
  error TEXT,
  suggestion TEXT
);`;
const INDEXES = `
CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep);
CREATE INDEX IF NOT EXISTS runs_kind ON runs(kind);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at);
`;

/** Bring an older store up to SCHEMA_VERSION in one transaction; a new store is created at it. */
function migrate(db: Database.Database): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version >= SCHEMA_VERSION) return;
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").get();
  db.transaction(() => {
    if (!exists) {
      db.exec(TABLE("runs"));
    } else if (version === 2) {
      // v2 -> v3 only adds nullable columns: old rows keep their meaning, the new figures are unknown for them
      for (const c of V3_COLUMNS) db.exec(`ALTER TABLE runs ADD COLUMN ${c}`);
    } else {
      // SQLite cannot change a CHECK constraint in place: copy into the new table
      const old = (db.prepare("PRAGMA table_info(runs)").all() as { name: string }[]).map((c) => c.name);
      db.exec(TABLE("runs_v2"));
      db.exec(`INSERT INTO runs_v2 (${old.join(", ")}) SELECT ${old.join(", ")} FROM runs`);
      db.exec("DROP TABLE runs");
      db.exec("ALTER TABLE runs_v2 RENAME TO runs");
    }
    db.exec(INDEXES);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

/** Open (or create) the store in `dir`; anything that is not a fitlab run store is refused in one line. */
function openStore(dir: string): Database.Database {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FitlabInputError(`cannot use ${dir} as the run store: ${code === "EEXIST" || code === "ENOTDIR" ? "it is a file, not a folder" : describeFsError(e)}`);
  }
  const file = path.join(dir, "fitlab.sqlite");
  if (fs.existsSync(file) && !fs.statSync(file).isFile()) throw new FitlabInputError(`the run store ${file} is not a file`);
  let db: Database.Database | null = null;
  try {
    db = new Database(file);
    db.pragma("busy_timeout = 10000");
    // reading the schema fails at once on a file that is not an SQLite database
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new FitlabInputError(`the run store ${file} has schema version ${version}, newer than this fitlab (${SCHEMA_VERSION}): update fitlab`);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    if (tables.length > 0 && !tables.includes("runs")) throw new FitlabInputError(`${file} is an SQLite database of something else (tables ${tables.slice(0, 3).join(", ")}), not a fitlab run store`);
    if (tables.includes("runs")) {
      const cols = (db.prepare("PRAGMA table_info(runs)").all() as { name: string }[]).map((c) => c.name);
      for (const c of ["id", "name", "status", "dir"]) if (!cols.includes(c)) throw new FitlabInputError(`${file} has a runs table without a ${c} column: not a fitlab run store`);
    }
    db.pragma("journal_mode = WAL");
    migrate(db);
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof FitlabInputError) throw e;
    const code = (e as { code?: string }).code ?? "";
    if (/NOTADB|CORRUPT/.test(code)) throw new FitlabInputError(`${file} is not a fitlab run store (${(e as Error).message}): move it away or point --runs elsewhere`);
    if (/READONLY|CANTOPEN|PERM|AUTH/.test(code)) throw new FitlabInputError(`cannot open the run store ${file}: ${(e as Error).message}`);
    throw e;
  }
}

export interface NewRun {
  /** default "train" */
  readonly kind?: RunKind;
  readonly name: string;
  readonly parentRun?: string | null;
  readonly experiment?: string | null;
  readonly sweep?: string | null;
  readonly sweepValue?: string | null;
  readonly model: string;
  readonly method: string;
  readonly config: Record<string, unknown>;
  readonly estimate: Record<string, unknown> | null;
  readonly predictedAllocatedBytes?: number | null;
  readonly predictedReservedBytes?: number | null;
  readonly predictedTokensPerS?: number | null;
  readonly predictedDeviceBytes?: number | null;
}

function newId(): string {
  const t = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `r${t}-${Math.random().toString(16).slice(2, 8)}`;
}

export class RunStore {
  readonly dir: string;
  private readonly db: Database.Database;

  constructor(dir: string = runsDir()) {
    this.dir = dir;
    this.db = openStore(dir);
  }

  close(): void {
    this.db.close();
  }

  /** A number that changes whenever another connection (a run in another process) commits: cheap to poll. */
  dataVersion(): number {
    return this.db.pragma("data_version", { simple: true }) as number;
  }

  /** Write the run folder completely (under a temporary name), then index it in one transaction. */
  create(r: NewRun): RunRecord {
    const id = newId();
    const final = path.join(this.dir, id);
    const tmp = path.join(this.dir, `.${id}.tmp`);
    fs.mkdirSync(tmp, { recursive: true });
    try {
      fs.writeFileSync(path.join(tmp, "config.json"), `${JSON.stringify({ ...r.config, output_dir: final }, null, 2)}\n`);
      fs.writeFileSync(path.join(tmp, "estimate.json"), `${JSON.stringify(r.estimate, null, 2)}\n`);
      fs.renameSync(tmp, final);
      this.db
        .prepare(
          `INSERT INTO runs (id, kind, name, parent_run, experiment, sweep, sweep_value, status, created_at, pid, dir, model, method, predicted_allocated_bytes, predicted_reserved_bytes, predicted_tokens_per_s, predicted_device_bytes)
           VALUES (@id, @kind, @name, @parent_run, @experiment, @sweep, @sweep_value, 'running', @created_at, @pid, @dir, @model, @method, @pa, @pr, @pt, @pd)`,
        )
        .run({
          id,
          kind: r.kind ?? "train",
          name: r.name,
          parent_run: r.parentRun ?? null,
          experiment: r.experiment ?? null,
          sweep: r.sweep ?? null,
          sweep_value: r.sweepValue ?? null,
          created_at: new Date().toISOString(),
          // the creating process holds the run from the start: if it dies before running it, it shows as interrupted
          pid: process.pid,
          dir: final,
          model: r.model,
          method: r.method,
          pa: r.predictedAllocatedBytes ?? null,
          pr: r.predictedReservedBytes ?? null,
          pt: r.predictedTokensPerS ?? null,
          pd: r.predictedDeviceBytes ?? null,
        });
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      fs.rmSync(final, { recursive: true, force: true });
      throw e;
    }
    return this.get(id);
  }

  get(id: string): RunRecord {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ? OR name = ? ORDER BY created_at DESC LIMIT 1").get(id, id) as RunRecord | undefined;
    if (!row) throw new FitlabInputError(`no run "${id}" in ${this.dir} (see \`fitlab runs list\`)`);
    return row;
  }

  list(filter: { sweep?: string; experiment?: string; kind?: RunKind; status?: RunStatus } = {}): RunRecord[] {
    const where: string[] = [];
    const args: Record<string, string> = {};
    for (const key of ["sweep", "experiment", "kind", "status"] as const) {
      const v = filter[key];
      if (v !== undefined) {
        where.push(`${key} = @${key}`);
        args[key] = v;
      }
    }
    return this.db.prepare(`SELECT * FROM runs${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at`).all(args) as RunRecord[];
  }

  update(id: string, fields: Partial<Omit<RunRecord, "id">>): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    this.db.prepare(`UPDATE runs SET ${keys.map((k) => `${k} = @${k}`).join(", ")} WHERE id = @id`).run({ ...fields, id });
  }

  /** Forget a run: its row and its folder (an inspection that failed on bad input leaves nothing behind). */
  remove(id: string): void {
    const r = this.get(id);
    this.db.prepare("DELETE FROM runs WHERE id = ?").run(r.id);
    fs.rmSync(r.dir, { recursive: true, force: true });
  }

  /**
   * Take a run for this process, atomically (one SQLite write transaction): refused while another live
   * process runs it, so two resumes of one run never drive two workers into one folder.
   */
  claim(id: string, pid: number = process.pid): RunRecord {
    return this.db
      .transaction(() => {
        const r = this.get(id);
        if (r.status === "running" && r.pid !== null && r.pid !== pid && RunStore.displayStatus(r) === "running") {
          throw new FitlabInputError(`run ${r.id} is being run by process ${r.pid}: wait for it, or stop that process first`);
        }
        this.update(r.id, { status: "running", pid, error: null, error_kind: null, finished_at: null });
        return this.get(r.id);
      })
      .immediate();
  }

  /** Status as a person sees it: a "running" run whose process is gone was interrupted. */
  static displayStatus(r: RunRecord): string {
    if (r.status !== "running") return r.status;
    if (r.pid === null) return "running";
    try {
      process.kill(r.pid, 0);
      return "running";
    } catch (e) {
      // EPERM: the process exists but belongs to another user
      return (e as NodeJS.ErrnoException).code === "EPERM" ? "running" : "interrupted";
    }
  }
}
