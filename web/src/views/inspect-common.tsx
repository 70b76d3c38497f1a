// What every Inspect view starts with: the run's inspection object (GET /api/runs/:id/inspect, the JSON
// `fitlab inspect ... --json` printed) and its findings in words, with the memory it took.
import { useEffect, useState } from "preact/hooks";
import { get } from "../api.ts";
import { duration, gib } from "../format.ts";
import type { InspectCommon } from "../types.ts";

export function useInspection<T extends InspectCommon>(runId: string): { data: T | null; error: string | null } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    get<T>(`/api/runs/${encodeURIComponent(runId)}/inspect`).then(
      (d) => live && setData(d),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [runId]);
  return { data, error };
}

export function Findings({ data }: { data: InspectCommon }) {
  return (
    <section>
      <h2>Findings</h2>
      <ul class="findings" data-testid="inspect-findings">
        {data.findings.map((f) => (
          <li>{f}</li>
        ))}
      </ul>
      <p class="sub">
        {data.device === "cuda" ? "GPU" : "CPU"} peak {gib(data.peak_bytes)} ({data.memory_source ?? "?"}), {gib(data.transient_bytes)} above the loaded model
        {data.predicted_allocated_bytes ? `; the planner predicts ${gib(data.predicted_allocated_bytes)} on a CUDA device` : ""}
        {data.seconds !== undefined ? `; ${duration(data.seconds)}` : ""} · {data.dtype}
      </p>
    </section>
  );
}

/** "embeddings", "layer 0", ... as the hidden and probe jobs name their points (the embeddings are point 0). */
export const pointName = (l: { layer: number; name?: string }) => l.name ?? (l.layer === 0 ? "embeddings" : `layer ${l.layer - 1}`);

export function Loading({ error }: { error: string | null }) {
  return error ? (
    <p class="error" data-testid="inspect-error">
      {error}
    </p>
  ) : (
    <p class="note">loading…</p>
  );
}
