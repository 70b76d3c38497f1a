#!/usr/bin/env node
// A corpus of bad inputs, as careless users and hostile files send them: broken configs, safetensors and
// GGUF headers, sharded indexes that reach outside their folder, pickles, plans (syntax, alias bombs, deep
// nesting, huge files, too many experiments), datasets, flags, run stores, output paths.
// makeCorpus(dir) writes the files under `dir` and returns the cases: the fitlab arguments and the exit
// code expected (2 for bad input, 1 where the machine fails, e.g. a full disk). Every case must be refused
// in one line on stderr, without a stack trace, quickly, without writing to the run store.
// Run alone: node test/corpus/make-corpus.mjs DIR  (writes DIR/cases.json)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// ---- small binary writers ----------------------------------------------------------------------------
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
const gstr = (s) => { const b = Buffer.isBuffer(s) ? s : Buffer.from(s, "utf8"); return Buffer.concat([u64(b.length), b]); };

/** A safetensors file from a header object (or raw header bytes) and a data section of `dataBytes`. */
function safetensors(header, dataBytes, opts = {}) {
  const h = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === "string" ? header : JSON.stringify(header), "utf8");
  const len = opts.len ?? h.length;
  return Buffer.concat([u64(len), h, Buffer.alloc(dataBytes)]);
}

const GGUF_U8 = 0, GGUF_U32 = 4, GGUF_BOOL = 7, GGUF_STR = 8, GGUF_ARR = 9;

/** A GGUF v3 file from raw kv bytes and tensor infos; `counts` overrides the declared counts. */
function gguf({ version = 3, magic = "GGUF", kvs = [], tensors = [], counts = {}, dataBytes = 1024, alignment = 32 }) {
  const head = [Buffer.from(magic, "latin1"), u32(version), u64(counts.tensors ?? tensors.length), u64(counts.kvs ?? kvs.length)];
  const body = [...kvs];
  for (const t of tensors) body.push(gstr(t.name), u32(t.dims.length), ...t.dims.map(u64), u32(t.type), u64(t.offset));
  let b = Buffer.concat([...head, ...body]);
  const pad = (alignment - (b.length % alignment)) % alignment;
  b = Buffer.concat([b, Buffer.alloc(pad), Buffer.alloc(dataBytes)]);
  return b;
}
const kvStr = (k, v) => Buffer.concat([gstr(k), u32(GGUF_STR), gstr(v)]);
const kvU32 = (k, v) => Buffer.concat([gstr(k), u32(GGUF_U32), u32(v)]);

// ---- valid pieces the bad inputs are made from ---------------------------------------------------------
export const GOOD_CONFIG = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 128,
  max_position_embeddings: 512,
  torch_dtype: "float32",
};
const GOOD_ST = safetensors({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 8);

const PLAN = (body) => `fitlab_plan: 1\nname: corpus plan\n${body}`;
const EXPERIMENT = `tracks:
  - id: A
    name: Fine-tuning
    experiments:
      - id: x
        model: Qwen/Qwen2.5-7B
        workload: { kind: qlora, seq: 1024, rank: 16 }
        data: { tokens: 1000000 }
`;

export function makeCorpus(root) {
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const cases = [];
  let n = 0;
  const file = (name, content) => {
    const p = path.join(root, `${String(++n).padStart(4, "0")}-${name}`);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    return p;
  };
  const folder = (name) => {
    const p = path.join(root, `${String(++n).padStart(4, "0")}-${name}`);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const sparse = (name, bytes) => {
    const p = file(name, "");
    fs.truncateSync(p, bytes);
    return p;
  };
  const add = (kind, what, argv, exit = 2, env = undefined) => cases.push({ id: `${kind}/${String(cases.length + 1).padStart(3, "0")}`, kind, what, argv, exit, ...(env ? { env } : {}) });
  const store = path.join(root, "store"); // every case that takes --runs points here; it must stay empty of runs

  // ---- a tiny but valid model folder and dataset, for cases about one other input ---------------------
  const model = folder("model-ok");
  fs.writeFileSync(path.join(model, "config.json"), JSON.stringify(GOOD_CONFIG));
  fs.writeFileSync(path.join(model, "model.safetensors"), GOOD_ST);
  const goodData = file("good.jsonl", '{"text": "count a b c"}\n{"text": "count b c d"}\n');
  const goodMc = file("good-mc.jsonl", '{"question": "count a", "choices": ["b", "c"], "answer": 0}\n');
  const goodGeneral = file("general.txt", "some general text\n");
  const run = (...extra) => ["run", "--model", model, "--data", goodData, "--runs", store, "--device", "cpu", "--steps", "2", ...extra];

  // ---- config.json: ranges, types, cross-field rules ---------------------------------------------------
  const numericFields = {
    hidden_size: [0, -64, 1e15, 64.5, "64", true, -2147483648, 2 ** 40],
    intermediate_size: [0, -1, 64.5, "128", 1e12],
    num_hidden_layers: [0, -1, 1e15, 2.5, "2", [2]],
    num_attention_heads: [0, -4, 4.5, "4", 100000],
    num_key_value_heads: [0, -2, -2147483648, 2.5, "2", 3, 8, { n: 2 }],
    head_dim: [0, -16, 16.5, 1e9, "16"],
    vocab_size: [0, -128, 1e12, 12.5, "128"],
    max_position_embeddings: [0, -512, 1e15, "512"],
    sliding_window: [-1, -4096, 4.5, "4096", 1e15],
    num_local_experts: [0, -8, 1e6, "8"],
    max_window_layers: [-1, 1.5],
  };
  for (const [field, values] of Object.entries(numericFields)) {
    for (const v of values) {
      const cfg = { ...GOOD_CONFIG, [field]: v };
      const f = file(`config-${field}.json`, JSON.stringify(cfg));
      add("config", `${field} = ${JSON.stringify(v)}`, cases.length % 2 ? ["models", f] : ["estimate", "--model", f]);
    }
  }
  const crossField = {
    "kv heads do not divide heads": { num_attention_heads: 6, num_key_value_heads: 4, hidden_size: 60 },
    "kv heads above heads": { num_key_value_heads: 8 },
    "experts per token above experts": { num_local_experts: 4, num_experts_per_tok: 6 },
    "experts per token 0": { num_local_experts: 4, num_experts_per_tok: 0 },
    "hidden not divisible by heads, no head_dim": { hidden_size: 66 },
    "layer_types count mismatch": { layer_types: ["full_attention"] },
    "absurd total": { hidden_size: 131072, intermediate_size: 2097152, num_hidden_layers: 1024, num_attention_heads: 1024, num_key_value_heads: 1024, vocab_size: 8388608 },
    "absurd experts": { hidden_size: 65536, intermediate_size: 1048576, num_hidden_layers: 512, num_local_experts: 4096, num_experts_per_tok: 8 },
    "tie_word_embeddings a string": { tie_word_embeddings: "yes" },
    "architectures a string": { architectures: "LlamaForCausalLM" },
    "model_type a number": { model_type: 7 },
    "quantization bits 0": { quantization_config: { quant_method: "gptq", bits: 0, group_size: 128 } },
    "quantization group -5": { quantization_config: { quant_method: "gptq", bits: 4, group_size: -5 } },
    "text_config not an object": { hidden_size: undefined, text_config: "llama" },
    "text_config with kv heads 0": { hidden_size: undefined, text_config: { ...GOOD_CONFIG, num_key_value_heads: 0 } },
    "use_sliding_window a number": { use_sliding_window: 1 },
  };
  for (const [what, patch] of Object.entries(crossField)) {
    const f = file("config-cross.json", JSON.stringify({ ...GOOD_CONFIG, ...patch }));
    add("config", what, ["estimate", "--model", f]);
  }
  for (const missing of ["hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size", "intermediate_size"]) {
    const cfg = { ...GOOD_CONFIG };
    delete cfg[missing];
    add("config", `no ${missing}`, ["models", file("config-missing.json", JSON.stringify(cfg))]);
  }
  const rawConfigs = {
    "empty file": "",
    "whitespace": "  \n\t\n",
    "a list": "[1, 2, 3]",
    "a string": '"llama"',
    "a number": "42",
    "null": "null",
    "truncated": JSON.stringify(GOOD_CONFIG).slice(0, 40),
    "trailing comma": '{"hidden_size": 64,}',
    "single quotes": "{'hidden_size': 64}",
    "comments": '{"hidden_size": 64 // width\n}',
    "NaN": '{"hidden_size": NaN}',
    "Infinity": '{"hidden_size": Infinity}',
    "unclosed string": '{"model_type": "llama',
    "control char in string": `{"model_type": "lla\u0001ma"}`,
    "two objects": "{}{}",
    "deep nesting": `{"x": ${"[".repeat(100000)}${"]".repeat(100000)}}`,
    "deep but short nesting": `{"x": ${"{\"a\":".repeat(40)}1${"}".repeat(40)}}`,
  };
  for (const [what, text] of Object.entries(rawConfigs)) add("config", what, ["models", file("config-raw.json", text)]);
  const binaryConfigs = {
    "NUL bytes": Buffer.from('{"hidden_size":\u0000\u0000 64}', "latin1"),
    "binary garbage": Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)),
    "latin-1 text": Buffer.from('{"model_type": "caf\xe9"}', "latin1"),
    "UTF-16": Buffer.from(`\ufeff${JSON.stringify(GOOD_CONFIG)}`, "utf16le"),
    "escape sequences": Buffer.from('\u001b[31m{"hidden_size": 64}', "utf8"),
    "overlong UTF-8": Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]),
    "lone surrogate bytes": Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]),
  };
  for (const [what, bytes] of Object.entries(binaryConfigs)) add("config", what, ["estimate", "--model", file("config-bin.json", bytes)]);
  add("config", "a folder named config.json", ["models", folder("dir/config.json")]);
  add("config", "above the size limit", ["models", sparse("config-huge.json", 5 * 1024 * 1024)]);
  add("config", "a device", ["models", "/dev/zero"]);
  {
    const d = folder("model-bad-config");
    fs.writeFileSync(path.join(d, "config.json"), JSON.stringify({ ...GOOD_CONFIG, num_key_value_heads: -2 }));
    fs.writeFileSync(path.join(d, "model.safetensors"), GOOD_ST);
    add("config", "bad config in a model folder", ["estimate", "--model", d]);
    const d2 = folder("model-config-dir");
    fs.mkdirSync(path.join(d2, "config.json"));
    add("config", "config.json is a folder inside the model folder", ["models", d2]);
    const d3 = folder("model-no-config");
    fs.writeFileSync(path.join(d3, "model.safetensors"), GOOD_ST);
    add("config", "model folder without config.json", ["models", d3]);
  }

  // ---- safetensors headers --------------------------------------------------------------------------
  const stFolder = (what, bytes) => {
    const d = folder("model-st");
    fs.writeFileSync(path.join(d, "config.json"), JSON.stringify(GOOD_CONFIG));
    fs.writeFileSync(path.join(d, "model.safetensors"), bytes);
    add("safetensors", what, cases.length % 2 ? ["models", d] : ["estimate", "--model", d]);
  };
  const T = (extra) => ({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8], ...extra } });
  stFolder("empty file", Buffer.alloc(0));
  stFolder("7 bytes", Buffer.alloc(7));
  stFolder("header length 2^63", Buffer.concat([u64(2n ** 63n), Buffer.from("{}")]));
  stFolder("header length past the end", safetensors("{}", 0, { len: 4096 }));
  stFolder("header length above 100 MB", safetensors("{}", 0, { len: 200_000_000 }));
  stFolder("header not UTF-8", safetensors(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 0));
  stFolder("header with NUL", safetensors(Buffer.from('{"a\u0000b": 1}', "latin1"), 0));
  stFolder("header not starting with {", safetensors("  []", 0));
  stFolder("header a list", safetensors("[]", 0));
  stFolder("header invalid JSON", safetensors('{"w": {"dtype": "F32",}', 8));
  stFolder("header truncated JSON", safetensors('{"w": {"dtype"', 8));
  stFolder("tensor entry a number", safetensors({ w: 5 }, 8));
  stFolder("missing dtype", safetensors({ w: { shape: [2], data_offsets: [0, 8] } }, 8));
  stFolder("unknown dtype", safetensors(T({ dtype: "F128" }), 8));
  stFolder("dtype with control characters", safetensors(T({ dtype: "\u001b[2J" }), 8));
  stFolder("dtype a number", safetensors(T({ dtype: 7 }), 8));
  stFolder("negative shape", safetensors(T({ shape: [-2] }), 8));
  stFolder("fractional shape", safetensors(T({ shape: [1.5] }), 8));
  stFolder("shape a string", safetensors(T({ shape: "2" }), 8));
  stFolder("offsets of three", safetensors(T({ data_offsets: [0, 4, 8] }), 8));
  stFolder("offsets negative", safetensors(T({ data_offsets: [-8, 0] }), 8));
  stFolder("offsets reversed", safetensors(T({ data_offsets: [8, 0] }), 8));
  stFolder("offsets past the data", safetensors(T({ data_offsets: [0, 8] }), 4));
  stFolder("offsets beyond 2^53", safetensors(T({ data_offsets: [0, 2 ** 60] }), 8));
  stFolder("span does not match shape", safetensors(T({ shape: [3] }), 8));
  stFolder("4-bit odd elements", safetensors(T({ dtype: "F4", shape: [3], data_offsets: [0, 2] }), 8));
  stFolder("two tensors on the same bytes", safetensors({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 8));
  stFolder("two tensors overlapping", safetensors({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, 12));
  stFolder("three tensors, last overlaps first", safetensors({ a: { dtype: "U8", shape: [4], data_offsets: [0, 4] }, b: { dtype: "U8", shape: [4], data_offsets: [4, 8] }, c: { dtype: "U8", shape: [2], data_offsets: [2, 4] } }, 8));
  stFolder("__metadata__ a list", safetensors({ __metadata__: [1], ...T({}) }, 8));
  stFolder("tensor name with escape codes, bad dtype", safetensors({ "\u001b]0;pwned\u0007": { dtype: "Z9", shape: [1], data_offsets: [0, 1] } }, 1));
  stFolder("header nested deeply", safetensors(`{"w": ${"[".repeat(5000)}${"]".repeat(5000)}}`, 0));
  stFolder("a long garbage tensor name", safetensors({ ["x".repeat(100000)]: { dtype: "Q", shape: [1], data_offsets: [0, 1] } }, 1));
  {
    const d = folder("model-st-dir");
    fs.writeFileSync(path.join(d, "config.json"), JSON.stringify(GOOD_CONFIG));
    fs.mkdirSync(path.join(d, "model.safetensors"));
    add("safetensors", "model.safetensors is a folder", ["models", d]);
  }
  add("safetensors", "a .safetensors file given as the model", ["estimate", "--model", file("weights.safetensors", GOOD_ST)]);

  // ---- sharded indexes: confined to the model folder ------------------------------------------------
  const outside = file("outside.safetensors", GOOD_ST);
  const shardFolder = (what, index, setup) => {
    const d = folder("model-sharded");
    fs.writeFileSync(path.join(d, "config.json"), JSON.stringify(GOOD_CONFIG));
    fs.writeFileSync(path.join(d, "model.safetensors.index.json"), typeof index === "string" || Buffer.isBuffer(index) ? index : JSON.stringify(index));
    setup?.(d);
    add("index", what, cases.length % 2 ? ["models", d] : ["estimate", "--model", d]);
  };
  shardFolder("index not JSON", "{weight_map: }");
  shardFolder("index a list", "[]");
  shardFolder("index without weight_map", { metadata: {} });
  shardFolder("weight_map a list", { weight_map: ["a"] });
  shardFolder("weight_map empty", { weight_map: {} });
  shardFolder("shard a number", { weight_map: { w: 3 } });
  shardFolder("shard an empty name", { weight_map: { w: "" } });
  shardFolder("shard ../", { weight_map: { w: `../${path.basename(outside)}` } });
  shardFolder("shard ../../ deeper", { weight_map: { w: "sub/../../x.safetensors" } });
  shardFolder("shard an absolute path", { weight_map: { w: outside } });
  shardFolder("shard a Windows path", { weight_map: { w: "C:\\Windows\\x.safetensors" } });
  shardFolder("shard with a NUL", { weight_map: { w: "model\u0000.safetensors" } });
  shardFolder("shard a link out of the folder", { weight_map: { w: "link.safetensors" } }, (d) => fs.symlinkSync(outside, path.join(d, "link.safetensors")));
  shardFolder("shard a link to /etc/passwd", { weight_map: { w: "pw.safetensors" } }, (d) => fs.symlinkSync("/etc/passwd", path.join(d, "pw.safetensors")));
  shardFolder("shard missing", { weight_map: { w: "model-00001-of-00002.safetensors" } });
  shardFolder("shard a folder", { weight_map: { w: "sub" } }, (d) => fs.mkdirSync(path.join(d, "sub")));
  shardFolder("shard lacks a tensor the index lists", { weight_map: { w: "a.safetensors", v: "a.safetensors" } }, (d) => fs.writeFileSync(path.join(d, "a.safetensors"), GOOD_ST));
  shardFolder("shard with a bad header", { weight_map: { w: "a.safetensors" } }, (d) => fs.writeFileSync(path.join(d, "a.safetensors"), safetensors("[1]", 0)));
  shardFolder("index with NUL bytes", '{"weight_map": {"w": "a\u0000"}}\u0000');
  shardFolder("index not UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
  {
    const d = folder("model-index-dir");
    fs.writeFileSync(path.join(d, "config.json"), JSON.stringify(GOOD_CONFIG));
    fs.mkdirSync(path.join(d, "model.safetensors.index.json"));
    add("index", "index is a folder", ["models", d]);
    const d2 = folder("model-index-huge");
    fs.writeFileSync(path.join(d2, "config.json"), JSON.stringify(GOOD_CONFIG));
    fs.closeSync(fs.openSync(path.join(d2, "model.safetensors.index.json"), "w"));
    fs.truncateSync(path.join(d2, "model.safetensors.index.json"), 65 * 1024 * 1024);
    add("index", "index above the size limit", ["models", d2]);
  }

  // ---- pickled weights, wherever weights are read ---------------------------------------------------
  const pickleBytes = Buffer.concat([Buffer.from([0x80, 0x04, 0x95]), Buffer.alloc(64)]);
  const torchZip = Buffer.concat([Buffer.from("PK\u0003\u0004", "latin1"), Buffer.alloc(64)]);
  for (const [name, bytes] of [["pytorch_model.bin", pickleBytes], ["model.pt", torchZip], ["weights.pth", pickleBytes], ["model.ckpt", pickleBytes]]) {
    const d = folder("model-pickle");
    fs.writeFileSync(path.join(d, "config.json"), JSON.stringify(GOOD_CONFIG));
    fs.writeFileSync(path.join(d, name), bytes);
    add("pickle", `folder with only ${name}`, ["estimate", "--model", d]);
    add("pickle", `${name} given as the model`, ["models", path.join(d, name)]);
  }
  {
    const d = folder("model-pickle-sharded");
    fs.writeFileSync(path.join(d, "config.json"), JSON.stringify(GOOD_CONFIG));
    fs.writeFileSync(path.join(d, "pytorch_model.bin.index.json"), JSON.stringify({ weight_map: { w: "pytorch_model-00001-of-00001.bin" } }));
    fs.writeFileSync(path.join(d, "pytorch_model-00001-of-00001.bin"), pickleBytes);
    add("pickle", "sharded pickles", ["models", d]);
    add("pickle", "training on pickles", ["run", "--model", d, "--data", goodData, "--runs", store]);
    add("pickle", "a pickle named like JSON", ["models", file("weights.json", pickleBytes)]);
    const p = folder("model-pickle-plan");
    fs.writeFileSync(path.join(p, "config.json"), JSON.stringify(GOOD_CONFIG));
    fs.writeFileSync(path.join(p, "pytorch_model.bin"), pickleBytes);
    add("pickle", "a plan whose model is pickled", ["plan", "check", file("plan-pickle.yaml", PLAN(EXPERIMENT.replace("Qwen/Qwen2.5-7B", p)))]);
  }

  // ---- GGUF headers ----------------------------------------------------------------------------------
  const gg = (what, bytes) => add("gguf", what, ["models", file("m.gguf", bytes)]);
  gg("empty", Buffer.alloc(0));
  gg("bad magic", gguf({ magic: "GGML" }));
  gg("magic only", Buffer.from("GGUF"));
  gg("version 1", gguf({ version: 1 }));
  gg("version 99", gguf({ version: 99 }));
  gg("big-endian", gguf({ version: 0x03000000 }));
  gg("tensor count 2^63", gguf({ counts: { tensors: 2n ** 63n } }));
  gg("tensor count above the limit, fits the file", Buffer.concat([gguf({ counts: { tensors: 500_000 } }), Buffer.alloc(600_000)]));
  gg("kv count 2^40", gguf({ counts: { kvs: 2n ** 40n } }));
  gg("kv count above the limit", Buffer.concat([gguf({ counts: { kvs: 70_000 } }), Buffer.alloc(100_000)]));
  gg("kv count says 5, none there", gguf({ counts: { kvs: 5 }, dataBytes: 0 }));
  gg("key length 2^62", Buffer.concat([Buffer.from("GGUF"), u32(3), u64(0), u64(1), u64(2n ** 62n)]));
  gg("string value 20 MB declared", Buffer.concat([Buffer.from("GGUF"), u32(3), u64(0), u64(1), gstr("k"), u32(GGUF_STR), u64(20_000_000), Buffer.alloc(20_000_100)]));
  gg("key not UTF-8", gguf({ kvs: [Buffer.concat([gstr(Buffer.from([0xff, 0xfe])), u32(GGUF_U32), u32(1)])] }));
  gg("value type 99", gguf({ kvs: [Buffer.concat([gstr("k"), u32(99), u32(1)])] }));
  gg("bool 7", gguf({ kvs: [Buffer.concat([gstr("k"), u32(GGUF_BOOL), Buffer.from([7])])] }));
  gg("array of type 99", gguf({ kvs: [Buffer.concat([gstr("k"), u32(GGUF_ARR), u32(99), u64(3), Buffer.alloc(12)])] }));
  gg("array longer than the file", gguf({ kvs: [Buffer.concat([gstr("k"), u32(GGUF_ARR), u32(GGUF_STR), u64(10_000_000)])] }));
  {
    // 100k arrays nested in arrays: a recursive reader overflows its stack
    const depth = 100_000;
    const parts = [gstr("nested"), u32(GGUF_ARR)];
    for (let i = 0; i < depth; i++) parts.push(u32(GGUF_ARR), u64(1));
    parts.push(u32(GGUF_U8), u64(1), Buffer.from([1]));
    gg("arrays nested 100000 deep", gguf({ kvs: [Buffer.concat(parts)] }));
    const parts2 = [gstr("nested"), u32(GGUF_ARR)];
    for (let i = 0; i < 6; i++) parts2.push(u32(GGUF_ARR), u64(1));
    parts2.push(u32(GGUF_U8), u64(1), Buffer.from([1]));
    gg("arrays nested 6 deep", gguf({ kvs: [Buffer.concat(parts2)] }));
    const wide = [gstr("wide"), u32(GGUF_ARR), u32(GGUF_ARR), u64(1000)];
    for (let i = 0; i < 1000; i++) wide.push(u32(GGUF_ARR), u64(1000));
    gg("array of 1000 arrays claiming 1000 arrays each", gguf({ kvs: [Buffer.concat(wide)] }));
  }
  gg("alignment not a power of two", gguf({ kvs: [kvU32("general.alignment", 33)] }));
  gg("alignment 0", gguf({ kvs: [kvU32("general.alignment", 0)] }));
  gg("alignment a string", gguf({ kvs: [kvStr("general.alignment", "32")] }));
  gg("tensor with 9 dims", gguf({ tensors: [{ name: "t", dims: [1, 1, 1, 1, 1, 1, 1, 1, 1], type: 0, offset: 0 }] }));
  gg("tensor of ggml type 200", gguf({ tensors: [{ name: "t", dims: [4], type: 200, offset: 0 }] }));
  gg("tensor offset unaligned", gguf({ tensors: [{ name: "t", dims: [4], type: 0, offset: 3 }] }));
  gg("tensor past the end", gguf({ tensors: [{ name: "t", dims: [1_000_000], type: 0, offset: 0 }] }));
  gg("tensor dims overflow", gguf({ tensors: [{ name: "t", dims: [2n ** 63n, 2n ** 63n], type: 0, offset: 0 }] }));
  gg("Q4_K row not a block multiple", gguf({ tensors: [{ name: "t", dims: [100], type: 12, offset: 0 }] }));
  gg("two tensors overlapping", gguf({ tensors: [{ name: "a", dims: [64], type: 0, offset: 0 }, { name: "b", dims: [64], type: 0, offset: 128 }] }));
  gg("tensor name with escape codes", gguf({ tensors: [{ name: "\u001b[2Jx", dims: [4], type: 77, offset: 0 }] }));
  gg("truncated in tensor infos", gguf({ tensors: [{ name: "t", dims: [4], type: 0, offset: 0 }] }).subarray(0, 40));
  add("gguf", "a folder named .gguf", ["models", folder("dir.gguf")]);

  // ---- plans -------------------------------------------------------------------------------------------
  const planCmds = (f) => {
    const k = cases.length % 4;
    return k === 0 ? ["plan", "check", f] : k === 1 ? ["decide", "--plan", f] : k === 2 ? ["burst", "A.x", "--plan", f] : ["run", "A.x", "--plan", f, "--runs", store];
  };
  const plan = (what, text) => add("plan", what, planCmds(file("plan.yaml", text)));
  plan("empty", "");
  plan("a list", "- 1\n- 2\n");
  plan("a scalar", "hello\n");
  plan("fitlab_plan 2", PLAN(EXPERIMENT).replace("fitlab_plan: 1", "fitlab_plan: 2"));
  plan("no name", PLAN(EXPERIMENT).replace("name: corpus plan\n", ""));
  plan("no tracks", PLAN(""));
  plan("tracks empty", PLAN("tracks: []\n"));
  plan("experiments empty", PLAN("tracks:\n  - id: A\n    name: t\n    experiments: []\n"));
  plan("unknown top key", PLAN(`colour: red\n${EXPERIMENT}`));
  plan("unknown experiment key", PLAN(EXPERIMENT.replace("data: {", "colour: red\n        data: {")));
  plan("duplicate key", PLAN(`name: again\n${EXPERIMENT}`));
  plan("duplicate experiment", PLAN(EXPERIMENT + EXPERIMENT.split("\n").slice(4).join("\n")));
  plan("experiment id with spaces", PLAN(EXPERIMENT.replace("id: x", "id: my run")));
  plan("unknown model", PLAN(EXPERIMENT.replace("Qwen/Qwen2.5-7B", "acme/Nope-7B")));
  plan("model path missing", PLAN(EXPERIMENT.replace("Qwen/Qwen2.5-7B", "./no/such/model")));
  plan("unknown workload kind", PLAN(EXPERIMENT.replace("kind: qlora", "kind: pretrain")));
  plan("negative seq", PLAN(EXPERIMENT.replace("seq: 1024", "seq: -5")));
  plan("seq a word", PLAN(EXPERIMENT.replace("seq: 1024", "seq: long")));
  plan("rank with full", PLAN(EXPERIMENT.replace("kind: qlora", "kind: full, quant: none")));
  plan("new tokens on training", PLAN(EXPERIMENT.replace("rank: 16", "rank: 16, newTokens: 5")));
  plan("unknown workload setting", PLAN(EXPERIMENT.replace("rank: 16", "rank: 16, colour: 3")));
  plan("no data", PLAN(EXPERIMENT.replace("        data: { tokens: 1000000 }\n", "")));
  plan("negative tokens", PLAN(EXPERIMENT.replace("tokens: 1000000", "tokens: -1")));
  plan("sweep of an unknown param", PLAN(EXPERIMENT + "        sweep: { param: colour, values: [1, 2] }\n"));
  plan("sweep without values", PLAN(EXPERIMENT + "        sweep: { param: learning_rate, values: [] }\n"));
  plan("runs 0", PLAN(EXPERIMENT + "        runs: 0\n"));
  plan("cycle_months 0", PLAN(`cycle_months: 0\n${EXPERIMENT}`));
  plan("cpu_hours negative", PLAN(EXPERIMENT.replace("      - id: x", "      - id: c\n        cpu: true\n        cpu_hours: -1\n      - id: x")));
  plan("unknown current_gpu", PLAN(`current_gpu: Voodoo 5 6000\n${EXPERIMENT}`));
  plan("current_gpu empty", PLAN(`current_gpu: ""\n${EXPERIMENT}`));
  plan("current_gpu a number", PLAN(`current_gpu: 4090\n${EXPERIMENT}`));
  const runSection = (ds, extra = "") => `        run:\n          dataset: { train: ${JSON.stringify(ds)} }\n${extra}`;
  plan("dataset missing", PLAN(EXPERIMENT + runSection("no-such-data.jsonl")));
  plan("dataset a folder", PLAN(EXPERIMENT + runSection(root)));
  plan("dataset a device", PLAN(EXPERIMENT + runSection("/dev/zero")));
  plan("eval dataset missing", PLAN(EXPERIMENT + `        run:\n          dataset: { train: ${JSON.stringify(goodData)}, eval: missing-eval.jsonl }\n`));
  plan("multiple-choice file missing", PLAN(EXPERIMENT + runSection(goodData, "          multiple_choice: no-mc.jsonl\n")));
  plan("general text missing", PLAN(EXPERIMENT + runSection(goodData, "          general_text: no-general.txt\n")));
  plan("learning rate negative", PLAN(EXPERIMENT + runSection(goodData, "          learning_rate: -0.1\n")));
  plan("run schedule unknown", PLAN(EXPERIMENT + runSection(goodData, "          schedule: sawtooth\n")));
  // YAML syntax, each error on a known line
  plan("unclosed flow sequence", PLAN(EXPERIMENT.replace("seq: 1024, rank: 16 }", "seq: [1024, rank: 16 }")));
  plan("tab indentation", PLAN(EXPERIMENT.replace("        data:", "\tdata:")));
  plan("bad indentation", PLAN(EXPERIMENT.replace("        data:", "     data:")));
  plan("unclosed quote", PLAN(EXPERIMENT.replace("id: x", 'id: "x')));
  plan("mapping in a compact mapping", PLAN(EXPERIMENT.replace("id: x", "id: x: y")));
  plan("two documents", `${PLAN(EXPERIMENT)}---\n${PLAN(EXPERIMENT)}`);
  plan("undefined alias", PLAN(EXPERIMENT.replace("{ tokens: 1000000 }", "*nothing")));
  plan("unknown tag", PLAN(EXPERIMENT.replace("{ tokens: 1000000 }", "!!js/function 'return 1'")));
  plan("binary", Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 31 + 7) % 256)).toString("latin1"));
  add("plan", "NUL bytes", planCmds(file("plan-nul.yaml", Buffer.concat([Buffer.from(PLAN(EXPERIMENT)), Buffer.from([0, 0, 0])]))));
  add("plan", "not UTF-8", planCmds(file("plan-latin1.yaml", Buffer.from(PLAN(EXPERIMENT).replace("corpus plan", "caf\xe9"), "latin1"))));
  // resources: alias bombs, nesting, size, counts
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
  plan("alias bomb (billion laughs)", `${bomb.join("\n")}\n${PLAN(EXPERIMENT)}`);
  plan("alias bomb inside an experiment", PLAN(EXPERIMENT.replace("data: { tokens: 1000000 }", `data: { tokens: 1000000 }\n        note: &n1 [${"x,".repeat(50)}x]\n        title: &t [${Array(200).fill("*n1").join(",")}]`)));
  plan("flow nesting 100000 deep", PLAN(`deep: ${"[".repeat(100000)}${"]".repeat(100000)}\n${EXPERIMENT}`));
  plan("flow nesting 40 deep", PLAN(`deep: ${"{a: ".repeat(40)}1${"}".repeat(40)}\n${EXPERIMENT}`));
  {
    let block = "deep:\n";
    for (let i = 1; i <= 60; i++) block += `${" ".repeat(i)}k${i}:\n`;
    plan("block nesting 60 deep", PLAN(`${block}${" ".repeat(61)}v: 1\n${EXPERIMENT}`));
  }
  {
    const exps = Array.from({ length: 600 }, (_, i) => `      - id: e${i}\n        model: Qwen/Qwen2.5-7B\n        workload: { kind: qlora, seq: 512 }\n        data: { tokens: 1000 }\n`).join("");
    plan("600 experiments", PLAN(`tracks:\n  - id: A\n    name: t\n    experiments:\n${exps}`));
    const many = Array.from({ length: 3 }, (_, i) => `      - id: r${i}\n        model: Qwen/Qwen2.5-7B\n        workload: { kind: qlora, seq: 512 }\n        data: { tokens: 1000 }\n        runs: 5000\n`).join("");
    plan("15000 runs", PLAN(`tracks:\n  - id: A\n    name: t\n    experiments:\n${many}`));
  }
  {
    // a 50 MB plan: refused at once, before it is read
    const f = file("plan-50mb.yaml", "");
    const line = "# padding padding padding padding padding padding padding padding padding padding\n";
    const fd = fs.openSync(f, "w");
    fs.writeSync(fd, PLAN(EXPERIMENT));
    const chunk = line.repeat(Math.ceil((1 << 20) / line.length));
    for (let i = 0; i < 50; i++) fs.writeSync(fd, chunk);
    fs.closeSync(fd);
    add("plan", "50 MB plan", ["plan", "check", f]);
    add("plan", "50 MB plan to decide", ["decide", "--plan", f]);
  }
  add("plan", "plan is a folder", ["plan", "check", folder("plan-dir.yaml")]);
  add("plan", "plan missing", ["plan", "check", path.join(root, "no-plan.yaml")]);
  add("plan", "plan a device", ["decide", "--plan", "/dev/zero"]);
  add("plan", "unknown experiment", ["burst", "Z.nothing"]);
  add("plan", "CPU-only experiment to burst", ["burst", "A.loss-curves"]);
  add("plan", "run an experiment the plan lacks", ["run", "Z.none", "--runs", store]);
  // a plan of its own: the built-in plan's experiments have run sections (they would start real runs)
  add("plan", "run an experiment without a run section", ["run", "A.x", "--plan", file("no-run.yaml", PLAN(EXPERIMENT)), "--runs", store]);

  // ---- datasets, checked before the worker starts ----------------------------------------------------
  const data = (what, content, flag = "--data") => {
    const f = file("data.jsonl", content);
    add("dataset", what, flag === "--data" ? ["run", "--model", model, "--data", f, "--runs", store, "--device", "cpu"] : run(flag, f));
  };
  data("empty file", "");
  data("blank lines only", "\n\n  \n");
  data("invalid JSON on line 3", '{"text": "a b"}\n{"text": "b c"}\n{"text": oops}\n');
  data("a list on line 1", "[1, 2]\n");
  data("a number on line 2", '{"text": "a"}\n7\n');
  data("no text field", '{"content": "a b"}\n');
  data("text empty", '{"text": ""}\n');
  data("text blank", '{"text": "   "}\n');
  data("text a number", '{"text": 5}\n');
  data("prompt without completion", '{"prompt": "a"}\n');
  data("completion empty", '{"prompt": "a", "completion": ""}\n');
  data("completion a list", '{"prompt": "a", "completion": ["b"]}\n');
  data("messages empty", '{"messages": []}\n');
  data("messages not a list", '{"messages": "hi"}\n');
  data("chat ends with the user", '{"messages": [{"role": "user", "content": "hi"}]}\n');
  data("chat ends with the system", '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "system", "content": "be nice"}]}\n');
  data("chat ends with the user on line 3", `${'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}\n'.repeat(2)}{"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]}\n`);
  data("message not an object", '{"messages": ["hi", {"role": "assistant", "content": "yo"}]}\n');
  data("unknown role", '{"messages": [{"role": "bot", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n');
  data("message without content", '{"messages": [{"role": "user"}, {"role": "assistant", "content": "yo"}]}\n');
  data("content a number", '{"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "yo"}]}\n');
  data("assistant answer empty", '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]}\n');
  data("mixed formats", '{"text": "a b"}\n{"prompt": "a", "completion": "b"}\n');
  data("NUL on line 2", Buffer.from('{"text": "a"}\n{"text": "b\u0000"}\n', "latin1"));
  data("not UTF-8 on line 3", Buffer.concat([Buffer.from('{"text": "a"}\n{"text": "b"}\n{"text": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]));
  data("UTF-16 file", Buffer.from('{"text": "a b"}\n', "utf16le"));
  data("truncated last line", '{"text": "a b"}\n{"text": "b c');
  data("eval set empty", "", "--eval-data");
  data("eval set chat ending with the user", '{"messages": [{"role": "user", "content": "hi"}]}\n', "--eval-data");
  add("dataset", "dataset missing", ["run", "--model", model, "--data", path.join(root, "no-data.jsonl"), "--runs", store]);
  add("dataset", "dataset a folder", ["run", "--model", model, "--data", root, "--runs", store]);
  add("dataset", "dataset a device", ["run", "--model", model, "--data", "/dev/zero", "--runs", store]);
  add("dataset", "dataset above the size limit", ["run", "--model", model, "--data", sparse("huge.jsonl", 9 * 1024 ** 3), "--runs", store]);
  add("dataset", "--mc missing", run("--mc", path.join(root, "no-mc.jsonl")));
  add("dataset", "--general missing", run("--general", path.join(root, "no-general.txt")));
  add("dataset", "--general a folder", run("--general", root));
  data("--general empty", "", "--general");
  data("--general not UTF-8", Buffer.from([0x61, 0xff, 0x62]), "--general");
  data("--mc invalid JSON", "{oops}\n", "--mc");
  data("--mc empty", "\n", "--mc");
  data("--mc answer out of range", '{"question": "q", "choices": ["a", "b"], "answer": 2}\n', "--mc");
  data("--mc answer negative", '{"question": "q", "choices": ["a", "b"], "answer": -1}\n', "--mc");
  data("--mc answer a string", '{"question": "q", "choices": ["a", "b"], "answer": "a"}\n', "--mc");
  data("--mc one choice", '{"question": "q", "choices": ["a"], "answer": 0}\n', "--mc");
  data("--mc choices not strings", '{"question": "q", "choices": [1, 2], "answer": 0}\n', "--mc");
  data("--mc no question", '{"choices": ["a", "b"], "answer": 0}\n', "--mc");
  add("dataset", "runs forgetting without files", ["runs", "--runs", store, "forgetting", "r1"]);
  add("dataset", "runs forgetting with a missing --mc", ["runs", "--runs", store, "forgetting", "r1", "--mc", path.join(root, "nope.jsonl")]);
  add("dataset", "model folder missing", ["run", "--model", path.join(root, "no-model"), "--data", goodData, "--runs", store]);
  add("dataset", "model a file", ["run", "--model", goodData, "--data", goodData, "--runs", store]);
  add("dataset", "model folder with a bad config", ["run", "--model", path.join(root, fs.readdirSync(root).find((x) => x.endsWith("model-bad-config"))), "--data", goodData, "--runs", store]);

  // ---- flags: values, combinations that do not apply, degenerate sizes --------------------------------
  const flag = (what, argv) => add("flags", what, argv);
  flag("--rank with full", ["estimate", "--workload", "full", "--rank", "8"]);
  flag("--alpha with full", ["estimate", "--workload", "full", "--alpha", "16"]);
  flag("--targets with full", ["fit", "--workload", "full", "--targets", "qv"]);
  flag("--dropout with inference", ["estimate", "--workload", "inference_decode", "--dropout", "0.1"]);
  flag("--rank with inference", ["estimate", "--workload", "inference_prefill", "--rank", "8"]);
  flag("--new-tokens with qlora", ["estimate", "--workload", "qlora", "--new-tokens", "5"]);
  flag("--prompt with lora", ["estimate", "--workload", "lora", "--quant", "none", "--prompt", "5"]);
  flag("--new-tokens with prefill", ["estimate", "--workload", "inference_prefill", "--new-tokens", "5"]);
  flag("--capture with qlora", ["estimate", "--capture", "per-layer"]);
  flag("--probe-classes with qlora", ["estimate", "--probe-classes", "3"]);
  flag("--probe-samples with inference", ["estimate", "--workload", "inference_decode", "--probe-samples", "10"]);
  flag("--grad-ckpt with inference", ["estimate", "--workload", "inference_decode", "--grad-ckpt", "full"]);
  flag("--optimizer-in-backward with inference", ["estimate", "--workload", "inference_prefill", "--optimizer-in-backward"]);
  flag("--optimizer with inference", ["estimate", "--workload", "inference_prefill", "--optimizer", "adamw"]);
  flag("--no-packed with inference", ["estimate", "--workload", "inference_decode", "--no-packed"]);
  flag("--grad-accum with inference", ["estimate", "--workload", "inference_decode", "--grad-accum", "4"]);
  flag("--loss with attention extraction", ["estimate", "--workload", "attention_extract", "--loss", "chunked"]);
  flag("prompt 0 and new tokens 0", ["estimate", "--workload", "inference_decode", "--prompt", "0", "--new-tokens", "0"]);
  flag("new tokens 0", ["estimate", "--workload", "inference_decode", "--new-tokens", "0"]);
  flag("prefill of 0 tokens", ["estimate", "--workload", "inference_prefill", "--prompt", "0"]);
  flag("probe of 0 samples", ["estimate", "--workload", "probe", "--probe-samples", "0"]);
  flag("seq 0", ["estimate", "--seq", "0"]);
  flag("seq 1e99", ["estimate", "--seq", "1e99"]);
  flag("seq a word", ["fit", "--seq", "long"]);
  flag("seq hex", ["estimate", "--seq", "0x400"]);
  flag("batch negative", ["estimate", "--batch", "-1"]);
  flag("batch fractional", ["estimate", "--batch", "1.5"]);
  flag("gpus 0", ["estimate", "--gpus", "0"]);
  flag("dataset tokens 0", ["estimate", "--dataset-tokens", "0"]);
  flag("dtype fp8", ["estimate", "--dtype", "fp8"]);
  flag("quant nf3", ["estimate", "--quant", "nf3"]);
  flag("quant gguf of an unknown type", ["estimate", "--quant", "gguf-Q9_X"]);
  flag("targets unknown", ["estimate", "--targets", "q_proj+foo"]);
  flag("engine unknown", ["estimate", "--engine", "nope"]);
  flag("attn unknown", ["estimate", "--attn", "magic"]);
  flag("workload unknown", ["estimate", "--workload", "pretrain"]);
  flag("full with a quantized base", ["estimate", "--workload", "full", "--quant", "bnb-nf4"]);
  flag("qlora without quantization", ["fit", "--workload", "qlora", "--quant", "none"]);
  flag("attention extraction of all layers at once with sdpa", ["estimate", "--workload", "attention_extract", "--capture", "all-layers", "--attn", "sdpa"]);
  flag("--gpu empty", ["estimate", "--gpu", ""]);
  flag("--model empty", ["estimate", "--model", ""]);
  flag("--model blank", ["fit", "--model", "   "]);
  flag("decide --gpu empty", ["decide", "--gpu", ""]);
  flag("decide --gpu unknown", ["decide", "--gpu", "Voodoo 5"]);
  flag("decide --plan empty", ["decide", "--plan", ""]);
  flag("decide --format pdf", ["decide", "--format", "pdf"]);
  flag("decide --horizon-months 0", ["decide", "--horizon-months", "0"]);
  flag("decide --utilization 2", ["decide", "--utilization", "2"]);
  flag("decide --electricity -1", ["decide", "--electricity", "-1"]);
  flag("decide --electricity NaN", ["decide", "--electricity", "NaN"]);
  flag("unknown option", ["estimate", "--bogus"]);
  flag("option without its value", ["estimate", "--seq"]);
  flag("unknown command", ["estimat"]);
  flag("models with two arguments", ["models", "a", "b"]);
  flag("models with an empty argument", ["models", ""]);
  flag("validate without a file", ["validate"]);
  flag("validate a missing file", ["validate", path.join(root, "no.csv")]);
  flag("validate a folder", ["validate", root]);
  flag("validate --trust unknown", ["validate", "--trust", "absolute", goodData]);
  flag("burst without an experiment", ["burst"]);
  flag("burst --disk 5", ["burst", "S.qlora-70b", "--disk", "5"]);
  flag("plan without a subcommand", ["plan"]);
  flag("plan with an unknown subcommand", ["plan", "chek"]);
  flag("plan check with an unknown option", ["plan", "check", "--bogus"]);
  flag("plan check with two files", ["plan", "check", "a.yaml", "b.yaml"]);
  flag("runs without a subcommand", ["runs"]);
  flag("runs list with an unknown option", ["runs", "list", "--bogus"]);
  flag("runs with an unknown subcommand", ["runs", "lsit"]);
  flag("runs show without an id", ["runs", "show"]);
  flag("engine without a subcommand", ["engine"]);
  flag("engine with an unknown subcommand", ["engine", "build"]);
  flag("run without a model", ["run", "--data", goodData, "--runs", store]);
  flag("run without data", ["run", "--model", model, "--runs", store]);
  flag("run --method sft", run("--method", "sft"));
  flag("run --lr -1", run("--lr", "-1"));
  flag("run --lr abc", run("--lr", "abc"));
  flag("run --steps 0", run("--steps", "0"));
  flag("run --batch 0", run("--batch", "0"));
  flag("run --seq 1", run("--seq", "1"));
  flag("run --schedule sawtooth", run("--schedule", "sawtooth"));
  flag("run --device tpu", run("--device", "tpu"));
  flag("run --rank 0", run("--rank", "0"));
  flag("run --dropout 1.5", run("--dropout", "1.5"));
  flag("run --eval-fraction 0", run("--eval-fraction", "0"));
  flag("run --epochs 0", run("--epochs", "0"));
  flag("run --name empty", run("--name", ""));

  // ---- prices files (decide/gpus/burst --prices): ranges, dates, assumptions, known GPUs ---------------
  const BUY = (extra = "", price = 2500) => `buy:\n  - gpu: GeForce RTX 4090\n    condition: new\n    price_usd: ${price}\n    source: x\n${extra}`;
  const prices = {
    "inverted range": BUY("    range_usd: [2800, 2200]\n"),
    "price outside its range": BUY("    range_usd: [1000, 2000]\n", 5000),
    "negative price": BUY("", -5),
    "price zero": BUY("", 0),
    "price 1e12": BUY("", 1e12),
    "price a word": BUY("", "cheap"),
    "range of one value": BUY("    range_usd: [2000]\n"),
    "range of words": BUY("    range_usd: [low, high]\n"),
    "date 2026-02-30": BUY('    date: "2026-02-30"\n'),
    "date month 13": BUY('    date: "2026-13"\n'),
    "date in the future": BUY('    date: "2099-01-01"\n'),
    "date last week": BUY("    date: last week\n"),
    "condition refurbished": BUY().replace("condition: new", "condition: refurbished"),
    "no source": BUY().replace("    source: x\n", ""),
    "unknown GPU": BUY().replace("GeForce RTX 4090", "Voodoo 5 6000"),
    "GPU name empty": BUY().replace("GeForce RTX 4090", '""'),
    "unknown key in an offer": BUY("    colour: red\n"),
    "unknown top key": "bye:\n  - {}\n",
    "negative host watts": "assumptions:\n  host_run_watts:\n    value: -50\n    source: me\n",
    "idle watts 1e6": "assumptions:\n  card_idle_watts_consumer: { value: 1e6, source: me }\n",
    "misspelt assumption": "assumptions:\n  electricty_usd_per_kwh: { value: 0.3, source: me }\n",
    "resale fraction 1.4": "assumptions:\n  resale_fraction_used: { value: 1.4, source: me }\n",
    "negative electricity": "assumptions:\n  electricity_usd_per_kwh: { value: -0.3, source: me }\n",
    "assumption without value": "assumptions:\n  horizon_months: { source: me }\n",
    "assumption value a word": "assumptions:\n  horizon_months: { value: two years, source: me }\n",
    "reviewed month 13": 'reviewed: "2026-13"\n',
    "stale after -1 months": "stale_after_months: -1\n",
    "cloud offer at a negative rate": "cloud:\n  - { gpu: GeForce RTX 4090, provider: X, usd_per_hour: -1, source: s }\n",
    "cloud offer for an unknown GPU": "cloud:\n  - { gpu: Voodoo 5 6000, provider: X, usd_per_hour: 1, source: s }\n",
    "cloud offer without provider": "cloud:\n  - { gpu: GeForce RTX 4090, usd_per_hour: 1, source: s }\n",
    "buy not a list": "buy: GeForce RTX 4090\n",
    "a list at the top": "- buy\n- cloud\n",
    "a number at the top": "42\n",
    "YAML syntax error on line 4": BUY().replace("    price_usd: 2500\n", "    price_usd: [2500\n"),
    "tab indentation": BUY().replace("    condition", "\tcondition"),
    "duplicate key": BUY().replace("    source: x\n", "    source: x\n    source: y\n"),
    "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "nested 10000 deep": `buy: ${"[".repeat(10000)}${"]".repeat(10000)}\n`,
  };
  const priceCmds = [(f) => ["decide", "--prices", f], (f) => ["gpus", "--prices", f], (f) => ["burst", "S.qlora-70b", "--prices", f]];
  let pi = 0;
  for (const [what, text] of Object.entries(prices)) add("prices", what, priceCmds[pi++ % priceCmds.length](file("prices.yaml", text)));
  add("prices", "NUL bytes", ["decide", "--prices", file("prices-nul.yaml", Buffer.concat([Buffer.from(BUY()), Buffer.from([0, 0])]))]);
  add("prices", "not UTF-8", ["decide", "--prices", file("prices-latin1.yaml", Buffer.from(BUY().replace("source: x", "source: caf\xe9"), "latin1"))]);
  add("prices", "empty file", ["decide", "--prices", file("prices-empty.yaml", "")]);
  add("prices", "/dev/zero", ["decide", "--prices", "/dev/zero"]);
  add("prices", "/dev/zero to gpus", ["gpus", "--prices", "/dev/zero"]);
  add("prices", "a folder", ["decide", "--prices", folder("prices-dir.yaml")]);
  add("prices", "missing", ["decide", "--prices", path.join(root, "no-prices.yaml")]);
  add("prices", "2 GiB (sparse)", ["decide", "--prices", sparse("prices-huge.yaml", 2 * 1024 ** 3)]);
  add("prices", "empty path", ["decide", "--prices", ""]);

  // ---- GPU catalog files (--gpu-file, gpus --file): devices, huge files, ranges -----------------------
  const GPU = (extra = "") => `gpus:\n  - name: rtx 4090\n${extra}`;
  const gpuFiles = {
    "vram 1e9 GiB": GPU("    vram_gib_nominal: 1e9\n"),
    "vram 0": GPU("    vram_gib_nominal: 0\n"),
    "vram a word": GPU("    vram_gib_nominal: lots\n"),
    "negative TDP": GPU("    tdp_w: -450\n"),
    "usable above nominal": GPU("    usable_gib: 30\n"),
    "cloud date 2026-02-31": GPU('    cloud: [{ provider: X, usd_per_hour: 0.5, kind: spot, date: "2026-02-31", source: s }]\n'),
    "cloud date in the future": GPU('    cloud: [{ provider: X, usd_per_hour: 0.5, kind: spot, date: "2099-01", source: s }]\n'),
    "cloud kind unknown": GPU('    cloud: [{ provider: X, usd_per_hour: 0.5, kind: cheap, date: "2026-01", source: s }]\n'),
    "cloud rate negative": GPU('    cloud: [{ provider: X, usd_per_hour: -0.5, kind: spot, date: "2026-01", source: s }]\n'),
    "compute capability 99.0": GPU('    compute_capability: "99.0"\n'),
    "unknown key": GPU("    colour: red\n"),
    "alias that names another GPU": 'gpus:\n  - name: t4\n    aliases: ["4090"]\n',
    "new GPU without its figures": "gpus:\n  - name: Voodoo 5 6000\n",
    "name empty": 'gpus:\n  - name: ""\n',
    "no name": "gpus:\n  - vram_gib_nominal: 24\n",
    "gpus not a list": "gpus: rtx 4090\n",
    "no gpus key": "cards:\n  - name: rtx 4090\n",
    "syntax error": "gpus:\n  - name: [unclosed\n",
    "tab indentation": "gpus:\n\t- name: rtx 4090\n",
    "alias bomb": prices["alias bomb"],
    "nested 10000 deep": `gpus: ${"[".repeat(10000)}${"]".repeat(10000)}\n`,
    "a list at the top": "- name: rtx 4090\n",
  };
  const gpuCmds = [(f) => ["decide", "--gpu-file", f], (f) => ["estimate", "--gpu-file", f], (f) => ["gpus", "--file", f], (f) => ["plan", "check", "--gpu-file", f], (f) => ["burst", "S.qlora-70b", "--gpu-file", f], (f) => ["fit", "--gpu-file", f]];
  let gi = 0;
  for (const [what, text] of Object.entries(gpuFiles)) add("gpufile", what, gpuCmds[gi++ % gpuCmds.length](file("gpus.yaml", text)));
  for (const [i, cmd] of gpuCmds.entries()) add("gpufile", `/dev/zero (${cmd("F")[0]})`, cmd("/dev/zero"));
  add("gpufile", "/dev/urandom", ["decide", "--gpu-file", "/dev/urandom"]);
  add("gpufile", "a FIFO-like device: /dev/stdin", ["gpus", "--file", "/dev/null"]);
  add("gpufile", "100 GiB (sparse)", ["decide", "--gpu-file", sparse("gpus-huge.yaml", 100 * 1024 ** 3)]);
  add("gpufile", "9 MiB (sparse)", ["estimate", "--gpu-file", sparse("gpus-9m.yaml", 9 * 1024 ** 2)]);
  add("gpufile", "a folder", ["decide", "--gpu-file", folder("gpus-dir.yaml")]);
  add("gpufile", "missing", ["gpus", "--file", path.join(root, "no-gpus.yaml")]);
  add("gpufile", "NUL bytes", ["decide", "--gpu-file", file("gpus-nul.yaml", Buffer.concat([Buffer.from(GPU()), Buffer.from([0])]))]);
  add("gpufile", "not UTF-8", ["gpus", "--file", file("gpus-latin1.yaml", Buffer.from(GPU().replace("rtx 4090", "rtx caf\xe9"), "latin1"))]);
  add("gpufile", "empty file", ["decide", "--gpu-file", file("gpus-empty.yaml", "")]);

  // ---- cases CSVs (validate FILE) ----------------------------------------------------------------------
  const CASES_HEADER = "id,model,workload,quant,compute_dtype,lora_rank,lora_alpha,lora_targets,optimizer,optimizer_in_backward,batch_size,grad_accum,seq_len,packed,grad_ckpt,attn_impl,loss_impl,torch_compile,framework,framework_version,gpu,gpu_mem_gib,n_gpus,parallel,outcome,metric,peak_gib,tokens_per_s,new_tokens,prompt_tokens,trust,source_url,source_location,normalization_notes";
  const ROW = "X1,Qwen/Qwen2.5-7B,qlora,bnb-nf4,bf16,16,32,all-linear,adamw,false,1,1,1024,false,full,sdpa,standard,false,hf,,GeForce RTX 4090,23.53,1,,fits,reserved,9.5,,,,high,https://example.org,p1,none";
  const csv = {
    "unterminated quote": `${CASES_HEADER}\n"unterminated,${ROW}\n`,
    "header only": `${CASES_HEADER}\n`,
    "no header": `${ROW}\n`,
    "a missing column": `${CASES_HEADER.replace(",trust", "")}\n${ROW}\n`,
    "a duplicated column": `${CASES_HEADER},gpu\n${ROW},x\n`,
    "a row with too many fields": `${CASES_HEADER}\n${ROW},extra,fields\n`,
    "a row with too few fields": `${CASES_HEADER}\n${ROW.split(",").slice(0, 10).join(",")}\n`,
    "every row bad: peak -1": `${CASES_HEADER}\n${ROW.replace(",9.5,", ",-1,")}\n`,
    "every row bad: seq 0": `${CASES_HEADER}\n${ROW.replace(",1024,", ",0,")}\n`,
    "every row bad: workload unknown": `${CASES_HEADER}\n${ROW.replace(",qlora,", ",pretrain,")}\n`,
    "every row bad: peak a word": `${CASES_HEADER}\n${ROW.replace(",9.5,", ",lots,")}\n`,
    "empty file": "",
    "JSON instead of CSV": '{"id": "X1"}\n',
    "a YAML plan": PLAN(EXPERIMENT),
  };
  for (const [what, text] of Object.entries(csv)) add("cases", what, ["validate", file("cases.csv", text)]);
  add("cases", "NUL bytes", ["validate", file("cases-nul.csv", Buffer.concat([Buffer.from(`${CASES_HEADER}\n${ROW}\n`), Buffer.from([0, 0])]))]);
  add("cases", "not UTF-8", ["validate", file("cases-latin1.csv", Buffer.from(`${CASES_HEADER}\n${ROW.replace("p1", "caf\xe9")}\n`, "latin1"))]);
  add("cases", "/dev/zero", ["validate", "/dev/zero"]);
  add("cases", "2 GiB (sparse)", ["validate", sparse("cases-huge.csv", 2 * 1024 ** 3)]);
  add("cases", "a line of 20 MB", ["validate", file("cases-long.csv", `${CASES_HEADER}\n${"x".repeat(20 * 1024 * 1024)}\n`)]);
  add("cases", "--cv unknown", ["validate", "--cv", "row", file("cases-ok.csv", `${CASES_HEADER}\n${ROW}\n`)]);

  // ---- ~/.fitlab/calibration.json (FITLAB_HOME), read by estimate, fit, decide, calibrate --------------
  const corr = (o = {}) => ({ gpu: "GeForce RTX 4090", engine: "fitlab-worker", memory_factor: 1.05, compute_factor: 0.9, runs: 3, fitted_at: "2026-11-01", ...o });
  const calJson = {
    "not JSON": "{ corrections: ",
    "wrong version": JSON.stringify({ fitlab_calibration: 2, corrections: [] }),
    "no version": JSON.stringify({ corrections: [] }),
    "memory factor 0": JSON.stringify({ fitlab_calibration: 1, corrections: [corr({ memory_factor: 0 })] }),
    "memory factor 1e9": JSON.stringify({ fitlab_calibration: 1, corrections: [corr({ memory_factor: 1e9 })] }),
    "compute factor negative": JSON.stringify({ fitlab_calibration: 1, corrections: [corr({ compute_factor: -1 })] }),
    "runs 2.5": JSON.stringify({ fitlab_calibration: 1, corrections: [corr({ runs: 2.5 })] }),
    "gpu missing": JSON.stringify({ fitlab_calibration: 1, corrections: [corr({ gpu: undefined })] }),
    "two corrections for one GPU and engine": JSON.stringify({ fitlab_calibration: 1, corrections: [corr(), corr()] }),
    "unknown field": JSON.stringify({ fitlab_calibration: 1, corrections: [corr({ colour: "red" })] }),
    "corrections not a list": JSON.stringify({ fitlab_calibration: 1, corrections: {} }),
    "a list at the top": "[]",
    "empty file": "",
    "nested 100000 deep": "[".repeat(100000) + "]".repeat(100000),
  };
  const calCmds = [["estimate"], ["fit"], ["decide"], ["calibrate", "--runs", store]];
  let ci = 0;
  const home = (what, setup) => {
    const d = folder("home");
    setup(d);
    return d;
  };
  for (const [what, text] of Object.entries(calJson)) {
    const d = home(what, (h) => fs.writeFileSync(path.join(h, "calibration.json"), text));
    add("calibration", what, calCmds[ci++ % calCmds.length], 2, { FITLAB_HOME: d });
  }
  add("calibration", "NUL bytes", ["estimate"], 2, { FITLAB_HOME: home("nul", (h) => fs.writeFileSync(path.join(h, "calibration.json"), Buffer.from([0x7b, 0, 0x7d]))) });
  add("calibration", "a folder", ["estimate"], 2, { FITLAB_HOME: home("dir", (h) => fs.mkdirSync(path.join(h, "calibration.json"))) });
  add("calibration", "a folder, calibrate --reset", ["calibrate", "--reset"], 2, { FITLAB_HOME: home("dir2", (h) => fs.mkdirSync(path.join(h, "calibration.json"))) });
  add("calibration", "above the size limit", ["fit"], 2, { FITLAB_HOME: home("huge", (h) => { fs.writeFileSync(path.join(h, "calibration.json"), ""); fs.truncateSync(path.join(h, "calibration.json"), 64 * 1024 ** 2); }) });
  add("calibration", "calibrate --reset --dry-run", ["calibrate", "--reset", "--dry-run"], 2, { FITLAB_HOME: home("reset", () => {}) });
  add("calibration", "calibrate --runs a file", ["calibrate", "--runs", goodData], 2, { FITLAB_HOME: home("runs-file", () => {}) });

  // ---- engine profiles (data/engines.yaml) and calibrated numbers (data/calibration.yaml) --------------
  // read by the library (no flag names another file): the loader is called with the bad file
  const loader = (kind, what, text) => cases.push({ id: `${kind}/${String(cases.length + 1).padStart(3, "0")}`, kind, what, argv: [], exit: 2, load: { kind, file: Buffer.isBuffer(text) || typeof text === "string" ? file(`${kind}.yaml`, text) : text.path } });
  const PROFILE = (body) => `profiles:\n  hf-peft:\n    description: d\n${body}`;
  const engines = {
    "adapter_bytes 100": PROFILE("    adapter_bytes: 100\n"),
    "adapter_bytes negative": PROFILE("    adapter_bytes: -4\n"),
    "cuda context 1000 GiB": PROFILE("    cuda_context_gib: 1000\n"),
    "loss bytes per logit 1e6": PROFILE("    loss_bytes_per_logit: { standard: 1e6, chunked: 4, fused-linear-ce: 0 }\n"),
    "loss bytes of an unknown loss": PROFILE("    loss_bytes_per_logit: { standard: 4, chunked: 4, fused-linear-ce: 0, magic: 1 }\n"),
    "grad ckpt default for an unknown kind": PROFILE("    grad_ckpt_default: { pretrain: full }\n"),
    "grad ckpt mode unknown": PROFILE("    grad_ckpt_default: { qlora: sometimes }\n"),
    "unknown field": PROFILE("    colour: red\n"),
    "kernel family unknown": PROFILE("    kernels: tensorrt\n"),
    "extends an unknown profile": PROFILE("    extends: nope\n"),
    "extends itself": PROFILE("    extends: hf-peft\n"),
    "extends in a loop": "profiles:\n  a:\n    description: d\n    extends: b\n  b:\n    description: d\n    extends: a\n",
    "profile id with spaces": "profiles:\n  Hf Peft:\n    description: d\n",
    "no description": "profiles:\n  hf-peft:\n    kernels: hf\n",
    "profiles not a map": "profiles: [hf-peft]\n",
    "unknown top key": "profile:\n  hf-peft:\n    description: d\n",
    "syntax error": "profiles:\n  hf-peft: [\n",
    "empty file": "",
    "alias bomb": prices["alias bomb"],
    "NUL bytes": Buffer.concat([Buffer.from(PROFILE("")), Buffer.from([0])]),
  };
  for (const [what, text] of Object.entries(engines)) loader("engines", what, text);
  loader("engines", "/dev/zero", { path: "/dev/zero" });
  loader("engines", "a folder", { path: folder("engines-dir.yaml") });
  loader("engines", "above the size limit", { path: sparse("engines-huge.yaml", 64 * 1024 ** 2) });
  const CAL = (o = {}) => {
    const c = { source: "s", global: { reserved_fixed_gib: 0.26 }, kernels: { hf: { train_efficiency: 0.58 } }, band: { memory: 0.15 }, ...o };
    return JSON.stringify(c); // JSON is YAML
  };
  const calYaml = {
    "efficiency 5": CAL({ kernels: { hf: { train_efficiency: 5 } } }),
    "efficiency negative": CAL({ kernels: { hf: { train_efficiency: -0.5 } } }),
    "unknown parameter": CAL({ global: { magic_factor: 1 } }),
    "a global parameter under a kernel family": CAL({ kernels: { hf: { reserved_fixed_gib: 0.2 } } }),
    "unknown kernel family": CAL({ kernels: { tensorrt: { train_efficiency: 0.5 } } }),
    "band 0": CAL({ band: { memory: 0 } }),
    "band 3": CAL({ band: { memory: 3 } }),
    "no band": CAL({ band: undefined }),
    "value a word": CAL({ global: { reserved_fixed_gib: "small" } }),
    "covered max_seq 0": CAL({ covered: { engines: [], parallel: [], moe: false, max_seq: 0 } }),
    "decode cards of an unknown kernel family": CAL({ covered: { engines: [], parallel: [], moe: false, max_seq: 8, decode_gpus: { tensorrt: ["NVIDIA H20 96GB"] } } }),
    "decode cards not a list": CAL({ covered: { engines: [], parallel: [], moe: false, max_seq: 8, decode_gpus: { vllm: "NVIDIA H20 96GB" } } }),
    "syntax error": "global:\n  reserved_fixed_gib: [0.2\n",
    "empty file": "",
  };
  for (const [what, text] of Object.entries(calYaml)) loader("calibration-yaml", what, text);
  loader("calibration-yaml", "/dev/zero", { path: "/dev/zero" });
  loader("calibration-yaml", "a folder", { path: folder("calibration-dir.yaml") });

  // ---- new flags of inspect, run, ui, burst, calibrate: values and combinations that do not apply -----
  const prompts = file("prompts.txt", "the cat sat\nthe dog ran\n");
  const probeSentences = file("probe.jsonl", Array.from({ length: 6 }, (_, i) => JSON.stringify({ text: `example ${i}`, label: i % 2 })).join("\n"));
  const probeTokens = file("probe-tok.jsonl", Array.from({ length: 6 }, (_, i) => JSON.stringify({ tokens: ["a", "b"], labels: [i % 2, 1 - (i % 2)] })).join("\n"));
  const insp = (kind, ...extra) => ["inspect", kind, "--model", model, "--runs", store, "--device", "cpu", ...(kind === "probe" ? ["--data", probeSentences] : ["--prompts", prompts]), ...extra];
  flag("inspect hidden --max-bytes without --positions all", insp("hidden", "--max-bytes", "1000"));
  flag("inspect hidden --max-bytes 0", insp("hidden", "--positions", "all", "--max-bytes", "0"));
  flag("inspect hidden --positions first", insp("hidden", "--positions", "first"));
  flag("inspect attention --chunk-bytes with --capture eager", insp("attention", "--chunk-bytes", "4096", "--capture", "eager"));
  flag("inspect attention --full-dtype without --heads", insp("attention", "--full-dtype", "float32"));
  flag("inspect attention --full-dtype int8", insp("attention", "--heads", "0.0", "--full-dtype", "int8"));
  flag("inspect attention --heads 99.0 beyond the model", insp("attention", "--heads", "99.0"));
  flag("inspect attention --heads 0.99 beyond the model", insp("attention", "--heads", "0.99"));
  flag("inspect attention --heads a word", insp("attention", "--heads", "first"));
  flag("inspect attention --capture lazy", insp("attention", "--capture", "lazy"));
  flag("inspect attention --quant nf4 on cpu", insp("attention", "--quant", "nf4"));
  flag("inspect attention --map-prompts -1", insp("attention", "--map-prompts", "-1"));
  flag("inspect compare without --adapter", insp("compare"));
  flag("inspect probe --run with --model", ["inspect", "probe", "--run", "r1", "--model", model, "--data", probeSentences, "--runs", store]);
  flag("inspect probe --run with --adapter", ["inspect", "probe", "--run", "r1", "--adapter", model, "--data", probeSentences, "--runs", store]);
  flag("inspect probe --pool on token-level data", ["inspect", "probe", "--model", model, "--data", probeTokens, "--pool", "mean", "--runs", store, "--device", "cpu"]);
  flag("inspect probe --pool max", insp("probe", "--pool", "max"));
  flag("inspect probe without --data", ["inspect", "probe", "--model", model, "--runs", store]);
  flag("inspect probe a null label", ["inspect", "probe", "--model", model, "--runs", store, "--data", file("probe-null.jsonl", Array.from({ length: 6 }, (_, i) => JSON.stringify({ text: `e ${i}`, label: i ? 1 : null })).join("\n"))]);
  flag("inspect probe an object label", ["inspect", "probe", "--model", model, "--runs", store, "--data", file("probe-obj.jsonl", Array.from({ length: 6 }, (_, i) => JSON.stringify({ text: `e ${i}`, label: { c: i % 2 } })).join("\n"))]);
  flag("inspect probe a single class", ["inspect", "probe", "--model", model, "--runs", store, "--data", file("probe-one.jsonl", Array.from({ length: 6 }, (_, i) => JSON.stringify({ text: `e ${i}`, label: "same" })).join("\n"))]);
  flag("inspect probe token labels of another length", ["inspect", "probe", "--model", model, "--runs", store, "--data", file("probe-len.jsonl", JSON.stringify({ tokens: ["a", "b"], labels: [1] }))]);
  flag("inspect hidden --prompts /dev/zero", ["inspect", "hidden", "--model", model, "--runs", store, "--prompts", "/dev/zero"]);
  flag("inspect hidden --prompts 2 GiB", ["inspect", "hidden", "--model", model, "--runs", store, "--prompts", sparse("prompts-huge.txt", 2 * 1024 ** 3)]);
  flag("inspect hidden --prompts missing", ["inspect", "hidden", "--model", model, "--runs", store, "--prompts", path.join(root, "no-prompts.txt")]);
  flag("inspect hidden --prompts a folder", ["inspect", "hidden", "--model", model, "--runs", store, "--prompts", root]);
  flag("inspect hidden --prompts not UTF-8", ["inspect", "hidden", "--model", model, "--runs", store, "--prompts", file("prompts-latin1.txt", Buffer.from("caf\xe9\n", "latin1"))]);
  flag("inspect hidden --prompts empty", ["inspect", "hidden", "--model", model, "--runs", store, "--prompts", file("prompts-empty.txt", "\n\n")]);
  flag("inspect hidden --model pickled", ["inspect", "hidden", "--model", path.join(root, fs.readdirSync(root).find((x) => x.endsWith("-model-pickle"))), "--runs", store, "--prompts", prompts]);
  flag("inspect hidden --model neither folder nor id", ["inspect", "hidden", "--model", "not a model!", "--runs", store, "--prompts", prompts]);
  add("flags", "inspect hidden: hub model not cached, offline", ["inspect", "hidden", "--model", "corpus-owner/not-cached", "--runs", store, "--prompts", prompts], 2, { HF_HUB_OFFLINE: "1", HF_HOME: folder("hf-empty") });
  flag("inspect hidden --max-prompts 0", insp("hidden", "--max-prompts", "0"));
  flag("inspect hidden --seed -1", insp("hidden", "--seed", "-1"));
  flag("inspect hidden --dtype fp8", insp("hidden", "--dtype", "fp8"));

  flag("run --method full --rank 8", run("--method", "full", "--rank", "8"));
  flag("run --method full --targets", run("--method", "full", "--targets", "q_proj"));
  flag("run --method full --dropout", run("--method", "full", "--dropout", "0.1"));
  flag("run --device cpu --loss fused", run("--loss", "fused"));
  flag("run --device cpu --kernels liger", run("--kernels", "liger"));
  flag("run --device cpu --force", run("--force"));
  flag("run --device cpu --gpu", run("--gpu", "GeForce RTX 4090"));
  flag("run --eval-data with --eval-fraction", run("--eval-data", goodData, "--eval-fraction", "0.2"));
  flag("run local --data with --data-config", run("--data-config", "main"));
  flag("run local --data with --data-split", run("--data-split", "train"));
  flag("run local --data with --examples", run("--examples", "100"));
  flag("run --data neither file nor id", ["run", "--model", model, "--data", "not a dataset!", "--runs", store, "--device", "cpu"]);
  flag("run hub --data with --eval-data", ["run", "--model", model, "--data", "tatsu-lab/alpaca", "--eval-data", goodData, "--runs", store, "--device", "cpu"]);
  flag("run --model neither folder nor id", ["run", "--model", "not a model!", "--data", goodData, "--runs", store]);
  flag("run --loss standard --loss-chunk", run("--loss", "standard", "--loss-chunk", "1024"));
  flag("run --loss magic", run("--loss", "magic"));
  flag("run --optimizer sgd9", run("--optimizer", "sgd9"));
  flag("run --grad-ckpt sometimes", run("--grad-ckpt", "sometimes"));
  flag("run --plan without an experiment", run("--plan", file("plan-run.yaml", PLAN(EXPERIMENT))));
  add("flags", "run: hub model not cached, offline", ["run", "--model", "corpus-owner/not-cached", "--data", goodData, "--runs", store, "--device", "cpu"], 2, { HF_HUB_OFFLINE: "1", HF_HOME: folder("hf-empty2") });
  add("flags", "run: hub dataset not cached, offline", ["run", "--model", model, "--data", "corpus-owner/not-cached", "--runs", store, "--device", "cpu"], 2, { HF_HUB_OFFLINE: "1", HF_HOME: folder("hf-empty3") });
  // a plan with a run section, an inspection and an evaluation: flags that describe a run are the plan's
  const planDir = folder("plan-runs");
  fs.writeFileSync(path.join(planDir, "t.jsonl"), '{"text": "a b c"}\n');
  fs.writeFileSync(path.join(planDir, "p.txt"), "a prompt\n");
  fs.writeFileSync(path.join(planDir, "mc.jsonl"), '{"question": "q", "choices": ["a", "b"], "answer": 0}\n');
  const runPlan = path.join(planDir, "plan.yaml");
  fs.writeFileSync(runPlan, PLAN(`tracks:
  - id: A
    name: a
    experiments:
      - id: train
        model: ${model}
        workload: { kind: lora, seq: 64, rank: 4 }
        data: { tokens: 1000 }
        run: { dataset: t.jsonl, max_steps: 2, device: cpu }
      - id: att
        model: ${model}
        workload: { kind: attention_extract, seq: 64 }
        data: { prompts: 1 }
        run: { prompts: p.txt, device: cpu }
`));
  for (const [f, v] of [["--lr", "0.1"], ["--steps", "5"], ["--seq", "128"], ["--rank", "8"], ["--model", model], ["--data", goodData], ["--name", "x"], ["--optimizer", "sgd"]]) flag(`run a plan experiment with ${f}`, ["run", "A.train", "--plan", runPlan, "--runs", store, f, v]);
  flag("run a plan experiment with --dry-run --force", ["run", "A.train", "--plan", runPlan, "--runs", store, "--dry-run", "--force"]);
  flag("run a plan inspection with --mc", ["run", "A.att", "--plan", runPlan, "--runs", store, "--mc", path.join(planDir, "mc.jsonl")]);
  flag("run a plan inspection with --force", ["run", "A.att", "--plan", runPlan, "--runs", store, "--force"]);
  const sectionPlan = (what, runSection, kind = "attention_extract") => {
    const f = file("plan-section.yaml", PLAN(`tracks:\n  - id: A\n    name: a\n    experiments:\n      - id: x\n        model: ${model}\n        workload: { kind: ${kind}, seq: 64${kind === "lora" ? ", rank: 4" : ""} }\n        data: { ${kind === "lora" ? "tokens: 1000" : "prompts: 1"} }\n        run: ${runSection}\n`));
    for (const n of ["p.txt", "t.jsonl"]) fs.copyFileSync(path.join(planDir, n), path.join(path.dirname(f), n));
    add("plan", what, ["plan", "check", f]);
  };
  sectionPlan("an inspection with a learning rate", "{ prompts: p.txt, learning_rate: 0.001 }");
  sectionPlan("an inspection with a dataset", "{ prompts: p.txt, dataset: t.jsonl }");
  sectionPlan("an inspection without prompts", "{ device: cpu }");
  sectionPlan("attention running a probe", "{ prompts: p.txt, inspect: probe }");
  sectionPlan("attention with probe_data", "{ prompts: p.txt, probe_data: p.txt }");
  sectionPlan("compare without adapter", "{ prompts: p.txt, inspect: compare }");
  sectionPlan("training with prompts", "{ dataset: p.txt, prompts: p.txt }", "lora");
  sectionPlan("training with adapter_from", "{ dataset: p.txt, adapter_from: A.x }", "lora");
  sectionPlan("training with fused loss on cpu", "{ dataset: p.txt, device: cpu, loss: fused }", "lora");
  sectionPlan("training with a loss chunk for the standard loss", "{ dataset: p.txt, loss: standard, loss_chunk_tokens: 1024 }", "lora");
  sectionPlan("training dataset neither path nor id", "{ dataset: 'not a dataset!' }", "lora");
  sectionPlan("hub dataset select all with examples", "{ dataset: { hub: a/b, select: all, examples: 10 } }", "lora");

  // splits, offload and precision that do not apply (src/workload/resolve.ts, applies.ts)
  flag("--parallel fsdp on one GPU", ["estimate", "--workload", "full", "--parallel", "fsdp"]);
  flag("--parallel tp on one GPU", ["estimate", "--workload", "inference_decode", "--parallel", "tp"]);
  flag("--gpus-per-node with ddp", ["estimate", "--workload", "full", "--gpus", "4", "--parallel", "ddp", "--gpus-per-node", "2"]);
  flag("--gpus-per-node 3 of 4 GPUs", ["estimate", "--workload", "full", "--gpus", "4", "--parallel", "fsdp-hybrid", "--gpus-per-node", "3"]);
  flag("--gpus-per-node above --gpus", ["fit", "--workload", "full", "--gpus", "2", "--parallel", "fsdp-hybrid", "--gpus-per-node", "8"]);
  flag("zero3-offload with --offload optimizer", ["estimate", "--workload", "full", "--gpus", "2", "--parallel", "zero3-offload", "--offload", "optimizer"]);
  flag("--precision with qlora", ["estimate", "--workload", "qlora", "--precision", "mixed"]);
  flag("--precision with inference", ["estimate", "--workload", "inference_decode", "--precision", "pure"]);
  flag("--offload with inference", ["estimate", "--workload", "inference_prefill", "--offload", "optimizer"]);
  flag("--loss-chunk with the standard loss", ["estimate", "--workload", "qlora", "--loss", "standard", "--loss-chunk", "1024"]);
  flag("--loss-chunk with the default loss", ["estimate", "--workload", "lora", "--quant", "none", "--engine", "hf-peft", "--loss-chunk", "1024"]);

  flag("ui --runs a file", ["ui", "--no-open", "--runs", goodData]);
  flag("ui --runs a foreign database", ["ui", "--no-open", "--runs", (() => { const d = folder("ui-store"); fs.writeFileSync(path.join(d, "fitlab.sqlite"), "not a database\n".repeat(100)); return d; })()]);
  flag("ui --port 70000", ["ui", "--no-open", "--port", "70000", "--runs", store]);
  flag("ui --port a word", ["ui", "--no-open", "--port", "http", "--runs", store]);
  flag("ui --port -1", ["ui", "--no-open", "--port", "-1", "--runs", store]);
  flag("burst --disk 0", ["burst", "S.qlora-70b", "--disk", "0"]);
  flag("burst --disk a word", ["burst", "S.qlora-70b", "--disk", "big"]);
  flag("burst --disk 1e9", ["burst", "S.qlora-70b", "--disk", "1e9"]);
  flag("burst --spot without --bucket", ["burst", "S.qlora-70b", "--spot"]);
  flag("burst --bucket not a bucket name", ["burst", "S.qlora-70b", "--spot", "--bucket", "My Bucket!"]);
  flag("burst --plan a device", ["burst", "S.qlora-70b", "--plan", "/dev/zero"]);
  flag("calibrate --json --reset --dry-run", ["calibrate", "--json", "--reset", "--dry-run"]);
  flag("calibrate with an argument", ["calibrate", "extra"]);

  // ---- run stores that are not run stores -------------------------------------------------------------
  const st = (what, setup, argv = (d) => ["runs", "--runs", d, "list"]) => {
    const d = folder("store");
    setup(d);
    add("store", what, argv(d));
  };
  st("random bytes", (d) => fs.writeFileSync(path.join(d, "fitlab.sqlite"), Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 131 + 17) % 256))));
  st("a text file", (d) => fs.writeFileSync(path.join(d, "fitlab.sqlite"), "not a database\n".repeat(100)));
  st("a JSON file", (d) => fs.writeFileSync(path.join(d, "fitlab.sqlite"), "{}"));
  st("a folder named fitlab.sqlite", (d) => fs.mkdirSync(path.join(d, "fitlab.sqlite")));
  st("random bytes, run show", (d) => fs.writeFileSync(path.join(d, "fitlab.sqlite"), Buffer.alloc(4096, 0x5a)), (d) => ["runs", "--runs", d, "show", "r1"]);
  st("random bytes, run", (d) => fs.writeFileSync(path.join(d, "fitlab.sqlite"), Buffer.alloc(4096, 0x5a)), (d) => ["run", "--model", model, "--data", goodData, "--runs", d, "--device", "cpu", "--steps", "1"]);
  add("store", "the store folder is a file", ["runs", "--runs", goodData, "list"]);
  add("store", "the store folder is a file, run", ["run", "--model", model, "--data", goodData, "--runs", goodData, "--steps", "1"]);
  add("store", "an empty store: show a run it lacks", ["runs", "--runs", store, "show", "r2024-nope"]);
  add("store", "an empty store: resume a run it lacks", ["runs", "--runs", store, "resume", "nope"]);
  add("store", "an empty store: compare nothing", ["runs", "--runs", store, "compare"]);
  add("store", "an empty store: compare an unknown sweep", ["runs", "--runs", store, "compare", "--sweep", "nope"]);

  // ---- where output goes ------------------------------------------------------------------------------
  add("output", "--out a folder", ["decide", "--out", root]);
  add("output", "--out in a missing folder", ["decide", "--out", path.join(root, "no", "such", "dir.md")]);
  add("output", "--out through a file", ["decide", "--out", path.join(goodData, "x.md")]);
  add("output", "--out /dev/full (a full disk)", ["decide", "--out", "/dev/full"], 1);
  add("output", "burst --out a folder", ["burst", "S.qlora-70b", "--out", root]);
  add("output", "runs show --svg a folder", ["runs", "--runs", store, "show", "nope", "--svg", root]);

  add("dataset", "--general missing beside a good --mc", run("--mc", goodMc, "--general", path.join(root, "nope.txt")));
  add("dataset", "--mc missing beside a good --general", run("--general", goodGeneral, "--mc", path.join(root, "nope-mc.jsonl")));
  return { cases, store };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = path.resolve(process.argv[2] ?? "fitlab-corpus");
  const { cases } = makeCorpus(dir);
  fs.writeFileSync(path.join(dir, "cases.json"), `${JSON.stringify(cases, null, 1)}\n`);
  process.stdout.write(`${cases.length} cases in ${dir}\n`);
}
