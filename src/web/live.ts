// Live metrics: follow a run's metrics.jsonl as the worker appends to it (one line per step, flushed),
// and turn each complete new line into a chart row with the same smoothing as the full read. A resumed
// run rewrites the file (a new file in its place): that is a reset, and the follower starts over.
import fs from "node:fs";
import { SeriesBuilder, type SeriesLine } from "../analyze/run-report.js";

export class MetricsTail {
  /** bytes of complete lines consumed */
  offset = 0;
  private ino: number | null = null;

  constructor(readonly file: string) {}

  /** New complete lines since the last read; `reset` when the file was replaced or cut shorter. */
  read(): { lines: SeriesLine[]; reset: boolean } {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      return { lines: [], reset: false };
    }
    let reset = false;
    if ((this.ino !== null && st.ino !== this.ino) || st.size < this.offset) {
      this.offset = 0;
      reset = true;
    }
    this.ino = st.ino;
    if (st.size === this.offset) return { lines: [], reset };
    const fd = fs.openSync(this.file, "r");
    let buf: Buffer;
    try {
      buf = Buffer.alloc(st.size - this.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      buf = buf.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
    const end = buf.lastIndexOf(0x0a);
    if (end < 0) return { lines: [], reset };
    this.offset += end + 1;
    const lines: SeriesLine[] = [];
    for (const text of buf.subarray(0, end).toString("utf8").split("\n")) {
      if (!text.trim()) continue;
      try {
        lines.push(JSON.parse(text) as SeriesLine);
      } catch {
        // a line cut by a kill: the resume rewrites it
      }
    }
    return { lines, reset };
  }
}

/** A follower that keeps the smoothing state: rows ready for the browser. */
export class LiveSeries {
  private tail: MetricsTail;
  builder = new SeriesBuilder();

  constructor(file: string) {
    this.tail = new MetricsTail(file);
  }

  get offset(): number {
    return this.tail.offset;
  }

  /** Rows added since the last call; `reset` means the builder was rebuilt from the whole file. */
  poll(): { rows: NonNullable<ReturnType<SeriesBuilder["add"]>>[]; reset: boolean } {
    const { lines, reset } = this.tail.read();
    if (reset) this.builder = new SeriesBuilder();
    const rows = [];
    for (const l of lines) {
      const r = this.builder.add(l);
      if (r) rows.push(r);
    }
    return { rows, reset };
  }
}
