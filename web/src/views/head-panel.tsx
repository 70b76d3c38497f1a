// The head picked in a heat map: its attention map(s) for a kept prompt, with the prompt's tokens on the axes.
// An attention run shows the pooled map, or the full-resolution one for a head named with --heads; a compare
// run shows base, fine-tuned and their difference side by side. Maps come one head at a time from
// /api/runs/:id/maps/:prompt/:layer/:head (float32), the prompt's tokens from /api/runs/:id/maps/:prompt.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { get, getMapTile, type MapTile } from "../api.ts";
import { AttentionMap } from "../charts/attention-map.tsx";
import type { HeadRef } from "../charts/head-grid.tsx";
import type { PromptMaps } from "../types.ts";

const promptCache = new Map<string, Promise<PromptMaps>>();
function promptMaps(runId: string, prompt: number): Promise<PromptMaps> {
  const key = `${runId}/${prompt}`;
  let hit = promptCache.get(key);
  if (!hit) {
    hit = get<PromptMaps>(`/api/runs/${encodeURIComponent(runId)}/maps/${prompt}`);
    hit.catch(() => promptCache.delete(key));
    promptCache.set(key, hit);
  }
  return hit;
}

type Side = "attention" | "base" | "tuned" | "difference";
const SIDE_TITLES: Record<Side, string> = { attention: "", base: "base model", tuned: "fine-tuned", difference: "fine-tuned − base" };

export function HeadPanel(p: { runId: string; kind: "attention" | "compare"; prompts: readonly { prompt: number; full_heads?: readonly string[] }[]; head: HeadRef | null; children?: ComponentChildren }) {
  const [prompt, setPrompt] = useState(p.prompts[0]?.prompt ?? 0);
  const [res, setRes] = useState<"pooled" | "full">("full");
  const [maps, setMaps] = useState<PromptMaps | null>(null);
  const [tiles, setTiles] = useState<{ key: string; side: Side; tile: MapTile }[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = p.head ? `${p.head.layer}.${p.head.head}` : "";
  const full = !!p.head && p.kind === "attention" && (p.prompts.find((m) => m.prompt === prompt)?.full_heads ?? []).includes(key);
  const resolution = full ? res : "pooled";
  const sides: Side[] = p.kind === "attention" ? ["attention"] : ["base", "tuned", "difference"];

  useEffect(() => {
    if (!p.head || p.prompts.length === 0) return;
    let live = true;
    setError(null);
    const h = p.head;
    Promise.all([promptMaps(p.runId, prompt), ...sides.map((side) => getMapTile(p.runId, prompt, h.layer, h.head, { side, res: resolution }))]).then(
      ([m, ...ts]) => {
        if (!live) return;
        setMaps(m as PromptMaps);
        setTiles((ts as MapTile[]).map((tile, i) => ({ key: `${prompt}:${key}:${resolution}`, side: sides[i]!, tile })));
      },
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [p.runId, key, prompt, resolution]);

  if (p.prompts.length === 0) return <p class="note">This run kept no attention maps (--map-prompts 0): the statistics are all there is.</p>;
  if (!p.head) return <p class="note" data-testid="pick-a-head">Click a head in a heat map to see its attention map, with the prompt's tokens on the axes.</p>;
  const shown = tiles && tiles[0]?.key === `${prompt}:${key}:${resolution}` && maps?.prompt === prompt ? tiles : null;
  return (
    <div class="head-panel" data-testid="head-panel" data-head={key} data-prompt={prompt} data-loaded={shown ? key : ""}>
      <h2>
        Layer {p.head.layer}, head {p.head.head}
      </h2>
      {p.children}
      <div class="form-row">
        {p.prompts.length > 1 ? (
          <label class="field">
            <span>prompt</span>
            <select data-testid="map-prompt" value={prompt} onChange={(e) => setPrompt(Number((e.target as HTMLSelectElement).value))}>
              {p.prompts.map((m) => (
                <option value={m.prompt}>prompt {m.prompt}</option>
              ))}
            </select>
          </label>
        ) : null}
        {full ? (
          <label class="field">
            <span>resolution</span>
            <select data-testid="map-resolution" value={resolution} onChange={(e) => setRes((e.target as HTMLSelectElement).value as "pooled" | "full")}>
              <option value="full">full (every token)</option>
              <option value="pooled">pooled</option>
            </select>
          </label>
        ) : null}
      </div>
      {error ? <p class="error">{error}</p> : null}
      {shown && maps && sides.length > 1 ? (
        <p class="sub">
          prompt {prompt}, {maps.tokens.length} tokens, {shown[0]!.tile.rows === maps.tokens.length ? "every token" : `pooled to ${shown[0]!.tile.rows} × ${shown[0]!.tile.cols}`}
        </p>
      ) : null}
      {shown && maps ? (
        <div class={sides.length > 1 ? "map-row" : ""}>
          {shown.map(({ side, tile }) => (
            <AttentionMap
              tile={tile}
              tokens={maps.tokens}
              edges={maps.bin_edges}
              diverging={side === "difference"}
              side={sides.length > 1 ? 200 : undefined}
              testid={`map-${side}`}
              title={sides.length > 1 ? SIDE_TITLES[side] : `prompt ${prompt}, ${maps.tokens.length} tokens, ${tile.resolution === "full" ? "full resolution" : tile.rows === maps.tokens.length ? "every token" : `pooled to ${tile.rows} × ${tile.cols}`}`}
            />
          ))}
        </div>
      ) : !error ? (
        <p class="note">loading the map…</p>
      ) : null}
    </div>
  );
}
