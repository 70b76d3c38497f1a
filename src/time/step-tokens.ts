// Term: the tokens a training micro-step really processes. Packed rows are seq tokens each. Unpacked rows are
// padded per batch, not to the cap: the default collators pad to the longest example of the batch
// (transformers data/data_collator.py DataCollatorWithPadding / DataCollatorForSeq2Seq, padding=True =
// "longest"; torchtune data/_collate.py padded_collate_sft). When batches are grouped by length (transformers
// Trainer group_by_length -> LengthGroupedSampler; PEFT method_comparison/MetaMathQA/run.py BucketIterator) or
// hold one example, a batch is padded to about its own examples, so a step processes batch x mean tokens.
// With random batches of several examples the padded length is the longest of them, which the mean alone does
// not give: the cap stays, an upper bound. The peak is not this: it follows the longest batch of the run.
import type { MemoryContext } from "../memory/context.js";

/** Tokens per row that one micro-step computes on (and counts as trained tokens). */
export function stepSeqLen(ctx: MemoryContext): number {
  const w = ctx.workload;
  if (!ctx.training || w.packed || w.meanTokens === null) return ctx.peakSeqLen;
  if (!w.lengthGrouped && w.batch > 1) return ctx.peakSeqLen;
  return Math.min(w.meanTokens, ctx.peakSeqLen);
}
