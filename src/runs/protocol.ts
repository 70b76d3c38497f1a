// The TypeScript side of the worker protocol (the Python side is engine/fitlab_worker/protocol.py).
// One JSON object per line each way; versioned; tensors never cross the pipe (safetensors files do).
import { z } from "zod";

export const PROTOCOL_VERSION = 1;

export type JobName = "doctor" | "train" | "evaluate" | "make_tiny" | "attention" | "compare" | "hidden" | "probe";

export interface Request {
  readonly v: typeof PROTOCOL_VERSION;
  readonly job: JobName;
  readonly config: Record<string, unknown>;
}

const base = { v: z.literal(PROTOCOL_VERSION) };
const num = z.number().nullable().optional();

export const eventSchema = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("hello"), worker: z.string(), version: z.string(), protocol: z.number(), python: z.string() }).passthrough(),
  z.object({ ...base, type: z.literal("progress"), job: z.string().optional(), step: z.number().optional(), total: z.number().optional(), message: z.string().optional() }).passthrough(),
  z
    .object({ ...base, type: z.literal("metric"), step: z.number(), loss: z.number(), lr: z.number(), grad_norm: z.number(), tokens_per_s: z.number(), peak_allocated_bytes: num, peak_reserved_bytes: num })
    .passthrough(),
  z.object({ ...base, type: z.literal("eval"), step: z.number(), eval_loss: z.number() }).passthrough(),
  z.object({ ...base, type: z.literal("checkpoint"), step: z.number(), path: z.string() }).passthrough(),
  z.object({ ...base, type: z.literal("log"), message: z.string() }).passthrough(),
  z.object({ ...base, type: z.literal("result"), job: z.string() }).passthrough(),
  z.object({ ...base, type: z.literal("error"), kind: z.string(), message: z.string() }).passthrough(),
]);
export type WorkerEvent = z.infer<typeof eventSchema>;

export type ErrorKind = "input" | "oom" | "needs_gpu" | "internal" | "protocol" | "crashed" | "disk_full";

/** One line from the worker's stdout, checked. Unknown or malformed lines become protocol errors. */
export function parseEvent(line: string): WorkerEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { v: PROTOCOL_VERSION, type: "error", kind: "protocol", message: `worker wrote a line that is not JSON: ${line.slice(0, 120)}` };
  }
  const r = eventSchema.safeParse(raw);
  if (!r.success) {
    const v = (raw as { v?: unknown })?.v;
    const message = v !== PROTOCOL_VERSION ? `worker speaks protocol ${String(v)}, fitlab speaks ${PROTOCOL_VERSION}: run \`fitlab engine setup\`` : `worker event does not match the protocol: ${r.error.issues[0]?.message}`;
    return { v: PROTOCOL_VERSION, type: "error", kind: "protocol", message };
  }
  return r.data;
}
