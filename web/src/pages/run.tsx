// One run: its summary (predicted beside measured), findings, and the view for its kind.
import { useCallback, useEffect, useState } from "preact/hooks";
import { get } from "../api.ts";
import { gib, loss, num } from "../format.ts";
import { href } from "../router.ts";
import type { RunReport } from "../types.ts";
import { VIEWS } from "../views/index.ts";
import { StatusBadge } from "./runs.tsx";

export function RunPage({ id }: { id: string }) {
  const [run, setRun] = useState<RunReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => get<RunReport>(`/api/runs/${encodeURIComponent(id)}`).then(setRun, (e: Error) => setError(e.message)), [id]);
  useEffect(() => void load(), [load]);
  if (error) return <p class="error page">{error}</p>;
  if (!run) return <p class="note page">loading…</p>;
  const View = VIEWS[run.kind];
  const cpu = run.device === "cpu";
  // an inspection trains nothing: no speed or loss to show beside its memory
  const trains = run.kind === "train" || run.kind === "evaluate";
  return (
    <div class="page" data-testid="run-page" data-kind={run.kind} data-status={run.status}>
      <h1>
        {run.name} <StatusBadge s={run.status} />
      </h1>
      <p class="sub">
        {run.id} · {run.kind} · {run.model} · {run.method}
        {run.device ? ` · ${run.device}` : ""}
        {run.sweep ? (
          <>
            {" · sweep "}
            <a href={href("/compare", { sweep: run.sweep })}>{run.sweep}</a> ({run.sweep_value})
          </>
        ) : null}
      </p>
      <table class="compact">
        <thead>
          <tr>
            <th />
            <th class="n">predicted</th>
            <th class="n">measured</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>peak allocated</td>
            <td class="n">{gib(run.memory.predicted_allocated_bytes)}</td>
            <td class="n">{cpu ? "n/a on the CPU" : gib(run.memory.measured_allocated_bytes)}</td>
          </tr>
          <tr>
            <td>peak reserved</td>
            <td class="n">{gib(run.memory.predicted_reserved_bytes)}</td>
            <td class="n">{cpu ? "n/a on the CPU" : gib(run.memory.measured_reserved_bytes)}</td>
          </tr>
          {trains ? (
            <>
              <tr>
                <td>tokens/s</td>
                <td class="n">{run.tokens_per_s.predicted === null ? "n/a (no GPU)" : num(run.tokens_per_s.predicted)}</td>
                <td class="n">{num(run.tokens_per_s.measured)}</td>
              </tr>
              <tr>
                <td>eval loss (initial → final, best)</td>
                <td />
                <td class="n">
                  {loss(run.eval_loss.initial)} → {loss(run.eval_loss.final)} ({loss(run.eval_loss.best)})
                </td>
              </tr>
            </>
          ) : null}
        </tbody>
      </table>
      {run.error ? (
        <p class="error">
          failed ({run.error.kind}): {run.error.message}
          {run.error.suggestion ? <div>{run.error.suggestion}</div> : null}
        </p>
      ) : null}
      {run.findings.length ? (
        <ul class="findings" data-testid="findings">
          {run.findings.map((f) => (
            <li class={f.kind}>{f.message}</li>
          ))}
        </ul>
      ) : null}
      {View ? <View run={run} onRunChanged={() => void load()} /> : <p class="note" data-testid="no-view">There is no inspect view for {run.kind} runs in this version yet; `fitlab runs show {run.id}` shows it in the terminal.</p>}
    </div>
  );
}
