"""Helpers of the inspection jobs (attention, compare, hidden, probe): loading for inference, reading prompts
and labelled data, the streaming attention recorder, residual-stream statistics, LoRA weights, probes and the
memory meter. The jobs themselves are plain scripts in ../jobs/."""
