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
  const add = (kind, what, argv, exit = 2) => cases.push({ id: `${kind}/${String(cases.length + 1).padStart(3, "0")}`, kind, what, argv, exit });
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
  flag("all-layers attention capture with sdpa", ["estimate", "--workload", "attention_extract", "--capture", "all-layers", "--attn", "sdpa"]);
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
  // GPU catalog files (--gpu-file, gpus --file), prices files and cases CSVs: a later pass (see README)

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
