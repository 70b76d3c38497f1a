// The run store: SQLite (better-sqlite3, WAL, so several fitlab processes can write at once) as the
// index, plus one folder per run holding the resolved config, the planner's estimate, metrics.jsonl,
// checkpoints and results. A run appears in the index only after its folder is complete.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { FitlabInputError } from "../errors.js";
import { runsDir } from "./env.js";

export type RunStatus = "running" | "done" | "failed";

export interface RunRecord {
  readonly id: string;
  readonly name: string;
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
  readonly initial_eval_loss: number | null;
  readonly final_eval_loss: number | null;
  readonly best_eval_loss: number | null;
  readonly steps: number | null;
  readonly error_kind: string | null;
  readonly error: string | null;
  readonly suggestion: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  experiment TEXT,
  sweep TEXT,
  sweep_value TEXT,
  status TEXT NOT NULL CHECK (status IN ('running','done','failed')),
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
  initial_eval_loss REAL,
  final_eval_loss REAL,
  best_eval_loss REAL,
  steps INTEGER,
  error_kind TEXT,
  error TEXT,
  suggestion TEXT
);
CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep);
`;

export interface NewRun {
  readonly name: string;
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
    fs.mkdirSync(dir, { recursive: true });
    try {
      this.db = new Database(path.join(dir, "fitlab.sqlite"));
    } catch (e) {
      throw new FitlabInputError(`cannot open the run store in ${dir}: ${(e as Error).message}`);
    }
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 10000");
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
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
          `INSERT INTO runs (id, name, experiment, sweep, sweep_value, status, created_at, dir, model, method, predicted_allocated_bytes, predicted_reserved_bytes, predicted_tokens_per_s)
           VALUES (@id, @name, @experiment, @sweep, @sweep_value, 'running', @created_at, @dir, @model, @method, @pa, @pr, @pt)`,
        )
        .run({
          id,
          name: r.name,
          experiment: r.experiment ?? null,
          sweep: r.sweep ?? null,
          sweep_value: r.sweepValue ?? null,
          created_at: new Date().toISOString(),
          dir: final,
          model: r.model,
          method: r.method,
          pa: r.predictedAllocatedBytes ?? null,
          pr: r.predictedReservedBytes ?? null,
          pt: r.predictedTokensPerS ?? null,
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

  list(filter: { sweep?: string; experiment?: string } = {}): RunRecord[] {
    if (filter.sweep) return this.db.prepare("SELECT * FROM runs WHERE sweep = ? ORDER BY created_at").all(filter.sweep) as RunRecord[];
    if (filter.experiment) return this.db.prepare("SELECT * FROM runs WHERE experiment = ? ORDER BY created_at").all(filter.experiment) as RunRecord[];
    return this.db.prepare("SELECT * FROM runs ORDER BY created_at").all() as RunRecord[];
  }

  update(id: string, fields: Partial<Omit<RunRecord, "id">>): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    this.db.prepare(`UPDATE runs SET ${keys.map((k) => `${k} = @${k}`).join(", ")} WHERE id = @id`).run({ ...fields, id });
  }

  /** Status as a person sees it: a "running" run whose process is gone was interrupted. */
  static displayStatus(r: RunRecord): string {
    if (r.status !== "running") return r.status;
    if (r.pid === null) return "running";
    try {
      process.kill(r.pid, 0);
      return "running";
    } catch {
      return "interrupted";
    }
  }
}
