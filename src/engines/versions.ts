// Library-version awareness: read "name version; name version" strings (the CASES.md framework_version
// format, also accepted on the CLI) and answer the few questions whose answer changed across releases.

export type Versions = ReadonlyMap<string, readonly number[]>;

export function parseVersions(text: string): Versions {
  const out = new Map<string, number[]>();
  for (const part of text.split(/[;,]/)) {
    const m = part.trim().match(/^([A-Za-z][\w.-]*)\s+v?(\d+(?:\.\d+)*)/);
    if (m) out.set(m[1]!.toLowerCase(), m[2]!.split(".").map(Number));
  }
  return out;
}

/** a < b for dotted versions */
export function versionBelow(v: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.max(v.length, b.length); i++) {
    const x = v[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/** transformers before 4.36 kept the KV cache as tuples rebuilt by torch.cat every step, so the old and
 *  new cache coexist until forward returns (DynamicCache, 4.36, updates layer by layer). When the string
 *  names no transformers version, companion releases of that era imply it: auto-gptq < 0.6,
 *  bitsandbytes < 0.42 and torch < 2.2 all predate transformers 4.36 (December 2023). */
export function legacyTupleKvCache(versions: Versions): boolean {
  const tf = versions.get("transformers");
  if (tf) return versionBelow(tf, [4, 36]);
  const before = (lib: string, v: number[]) => {
    const have = versions.get(lib);
    return have !== undefined && versionBelow(have, v);
  };
  return before("auto-gptq", [0, 6]) || before("bitsandbytes", [0, 42]) || before("torch", [2, 2]);
}

/** bitsandbytes before 0.45 kept LLM.int8 weights twice on pre-Ampere GPUs: row-major CB plus the
 *  col_turing/col_ampere tiled CxB used by igemmlt (bitsandbytes autograd/_functions.py MatMul8bitLt). */
export function int8DoubleCopy(versions: Versions, computeCapability: string | null): boolean {
  const bnb = versions.get("bitsandbytes");
  const old = bnb === undefined || versionBelow(bnb, [0, 45]);
  const major = computeCapability ? Number(computeCapability.split(".")[0]) : 8;
  return old && major < 8;
}
