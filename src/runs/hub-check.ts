// Hub models and datasets a run will fetch, checked before the run exists: with HF_HUB_OFFLINE set, each must
// already be in the Hugging Face cache; otherwise the hub must answer (any HTTP reply will do: a gated, private
// or missing repository is the worker's to explain). Either failure is one line and exit 2, and nothing is
// written to the run store. The cache layout is huggingface_hub's (constants.py: HF_HOME, HF_HUB_CACHE,
// "models--owner--name/snapshots") and the datasets library's (config.py: HF_DATASETS_CACHE, "owner___name").
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FitlabInputError } from "../errors.js";
import { hubEndpoint } from "../spec/hub.js";

export interface HubSource {
  readonly kind: "model" | "dataset";
  readonly id: string;
}

/** huggingface_hub's _is_true: "1", "ON", "YES", "TRUE" in any case. */
function isTrue(v: string | undefined): boolean {
  return v !== undefined && ["1", "on", "yes", "true"].includes(v.trim().toLowerCase());
}

export function hubOffline(kind: HubSource["kind"]): boolean {
  const hub = isTrue(process.env.HF_HUB_OFFLINE) || isTrue(process.env.TRANSFORMERS_OFFLINE);
  return kind === "dataset" ? hub || isTrue(process.env.HF_DATASETS_OFFLINE) : hub;
}

function hfHome(): string {
  return process.env.HF_HOME ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "huggingface");
}

/** Whether the Hugging Face caches hold something of this repository. */
export function inHfCache(s: HubSource): boolean {
  const hub = process.env.HF_HUB_CACHE ?? process.env.HUGGINGFACE_HUB_CACHE ?? path.join(hfHome(), "hub");
  const snapshots = path.join(hub, `${s.kind}s--${s.id.replace(/\//g, "--")}`, "snapshots");
  try {
    if (fs.readdirSync(snapshots).length > 0) return true;
  } catch {
    // not there
  }
  if (s.kind === "dataset") {
    const ds = process.env.HF_DATASETS_CACHE ?? path.join(hfHome(), "datasets");
    return fs.existsSync(path.join(ds, s.id.replace(/\//g, "___")));
  }
  return false;
}

const TIMEOUT_MS = 10_000;

/** Why the hub cannot be reached (DNS, refused, timed out), or null when it answered anything. */
async function unreachable(url: string): Promise<string | null> {
  try {
    const res = await fetch(url, { method: "HEAD", redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS), headers: { "user-agent": "fitlab" } });
    await res.body?.cancel();
    return null;
  } catch (e) {
    const err = e as { name?: string; cause?: { code?: string; errors?: { code?: string }[] } };
    if (err.name === "TimeoutError") return `no answer in ${TIMEOUT_MS / 1000} s`;
    return err.cause?.code ?? err.cause?.errors?.find((x) => x.code)?.code ?? err.name ?? "unreachable";
  }
}

/** Refuse, in one line, a run whose hub models or datasets cannot be had. */
export async function checkHubSources(sources: readonly HubSource[]): Promise<void> {
  const unique = [...new Map(sources.map((s) => [`${s.kind}:${s.id}`, s])).values()];
  if (unique.length === 0) return;
  for (const s of unique) {
    if (hubOffline(s.kind) && !inHfCache(s)) {
      throw new FitlabInputError(`${s.kind} ${s.id} is not in the Hugging Face cache and HF_HUB_OFFLINE=1 forbids downloading it: run once with network, or unset HF_HUB_OFFLINE`);
    }
  }
  const online = unique.filter((s) => !hubOffline(s.kind));
  if (online.length === 0) return;
  const endpoint = hubEndpoint();
  const why = await unreachable(`${endpoint}/api/${online[0]!.kind}s/${online[0]!.id}`);
  if (why === null) return;
  const s = online[0]!;
  const cached = inHfCache(s);
  throw new FitlabInputError(`cannot reach ${endpoint} to fetch ${s.kind} ${s.id} (${why}): check the network${cached ? `, or set HF_HUB_OFFLINE=1 to use the copy in the Hugging Face cache` : "; it is not in the Hugging Face cache either"}`);
}
