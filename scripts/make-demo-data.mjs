// Writes the bundled demo dataset (data/demo/): a learnable counting pattern for training, a different
// pattern as "general text" for perplexity, and a multiple-choice set. Deterministic; run once:
//   node scripts/make-demo-data.mjs
import fs from "node:fs";

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const int = (n) => Math.floor(rand() * n);
const dir = new URL("../data/demo/", import.meta.url);
fs.mkdirSync(dir, { recursive: true });

// twelve symbols in a cycle: the next symbol is a fixed function of the last one, learnable by a tiny model
const SYMBOLS = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"];
const N = SYMBOLS.length;
const count = (start, n) => Array.from({ length: n }, (_, i) => SYMBOLS[(((start + i) % N) + N) % N]).join(" ");
const train = Array.from({ length: 400 }, () => JSON.stringify({ text: `count ${count(int(N), 12)}` }));
fs.writeFileSync(new URL("train.jsonl", dir), `${train.join("\n")}\n`);

const prompts = Array.from({ length: 200 }, () => {
  const s = int(N);
  return JSON.stringify({ prompt: `count ${count(s, 4)}`, completion: count(s + 4, 4) });
});
fs.writeFileSync(new URL("prompt-completion.jsonl", dir), `${prompts.join("\n")}\n`);

const chats = Array.from({ length: 120 }, () => {
  const s = int(N);
  return JSON.stringify({ messages: [{ role: "user", content: `count ${count(s, 3)}` }, { role: "assistant", content: count(s + 3, 3) }] });
});
fs.writeFileSync(new URL("chat.jsonl", dir), `${chats.join("\n")}\n`);

const down = (start, n) => Array.from({ length: n }, (_, i) => SYMBOLS[(((start - i) % N) + N) % N]).join(" ");
const general = Array.from({ length: 60 }, () => `down ${down(int(N), 12)}`);
fs.writeFileSync(new URL("general.txt", dir), `${general.join("\n")}\n`);

const mc = Array.from({ length: 40 }, () => {
  const s = int(N);
  const right = SYMBOLS[(s + 1) % N];
  const wrong = [SYMBOLS[(s + 5) % N], SYMBOLS[(s + 9) % N]];
  const answer = int(3);
  const choices = [...wrong];
  choices.splice(answer, 0, right);
  return JSON.stringify({ question: `count ${count(s - 3 + N, 4)}`, choices, answer });
});
fs.writeFileSync(new URL("mc.jsonl", dir), `${mc.join("\n")}\n`);

const words = ["count", "down", ...SYMBOLS];
fs.writeFileSync(new URL("words.json", dir), `${JSON.stringify(words)}\n`);
console.log("wrote data/demo: train.jsonl, prompt-completion.jsonl, chat.jsonl, general.txt, mc.jsonl, words.json");

// Tracks B and C (added later, own random stream so the files above stay as they were): prompts for the
// attention and hidden-state demos, and a probe set whose label is whether the second-to-last word is in the
// first half of the alphabet (a-f). The words are random, so only the previous word tells the label at the last token.
let seed2 = 777;
const rand2 = () => ((seed2 = (seed2 * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = () => SYMBOLS[Math.floor(rand2() * N)];
const tracksPrompts = [0, 3, 7, 10].map((s) => `count ${count(s, 15)}`);
fs.writeFileSync(new URL("prompts.txt", dir), `${tracksPrompts.join("\n")}\n`);
const probe = Array.from({ length: 96 }, () => {
  const words = Array.from({ length: 7 }, pick);
  return JSON.stringify({ text: `count ${words.join(" ")}`, label: SYMBOLS.indexOf(words[5]) < 6 ? "a-f" : "g-l" });
});
fs.writeFileSync(new URL("probe.jsonl", dir), `${probe.join("\n")}\n`);
console.log("wrote data/demo: prompts.txt, probe.jsonl (Tracks B and C)");
