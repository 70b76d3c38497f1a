import { fileURLToPath } from "node:url";

export const DEMO_TRAIN = fileURLToPath(new URL("../../data/demo/train.jsonl", import.meta.url));
