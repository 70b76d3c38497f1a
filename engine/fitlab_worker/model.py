"""Load a causal LM (local folder or Hugging Face id) the way each method needs it. Safetensors only."""
import os

from .protocol import JobError


def device_and_dtype(requested_device="auto", requested_dtype="auto"):
    import torch

    if requested_device == "cuda" or (requested_device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise JobError("needs_gpu", "device cuda was asked for but no CUDA GPU is visible: drop --device cuda or run on a GPU machine")
        dev = "cuda"
    else:
        dev = "cpu"
    if requested_dtype != "auto":
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[requested_dtype]
    elif dev == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dtype = torch.float32
    return dev, dtype


def check_model_source(name):
    """A local folder must hold config.json and safetensors weights; anything else is taken as a hub id."""
    if os.path.isdir(name):
        if not os.path.exists(os.path.join(name, "config.json")):
            raise JobError("input", f"model folder {name} has no config.json")
        files = os.listdir(name)
        if not any(f.endswith(".safetensors") or f == "model.safetensors.index.json" for f in files):
            raise JobError("input", f"model folder {name} has no .safetensors weights (fitlab never loads pickled .bin files): convert it with safetensors first")
    elif name.startswith((".", "/")) or os.sep in name and not name.count("/") == 1:
        raise JobError("input", f"model folder {name} does not exist")


def load_tokenizer(name):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if os.path.exists(os.path.join(name, "fitlab-tiny.json")) or os.path.exists(os.path.join(name, "fitlab-random.json")):
        # make_tiny's / make_random's word-level tokenizer: AutoTokenizer (transformers 5) would rebuild it as the
        # model type's byte-level BPE class (Qwen2Tokenizer) from the vocabulary alone and split words into letters
        tok = PreTrainedTokenizerFast.from_pretrained(name)
    else:
        tok = AutoTokenizer.from_pretrained(name)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok


def nf4_kwargs(dtype, device, needs):
    """from_pretrained arguments for 4-bit NF4 weights with double quantization, computing in `dtype` (QLoRA,
    Dettmers et al. 2023; bitsandbytes), placed whole on `device`. `needs` names what asked, for the message
    when bitsandbytes is missing."""
    try:
        import bitsandbytes  # noqa: F401
        from transformers import BitsAndBytesConfig
    except ImportError:
        raise JobError("needs_gpu", f"{needs} needs bitsandbytes: run `fitlab engine setup`")
    return {"quantization_config": BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=dtype), "device_map": {"": device}}


def load_model(name, method, device, dtype, gradient_checkpointing=False, lora=None, adapter=None):
    """method: qlora | lora | full | eval. lora: dict(rank, alpha, dropout, targets). adapter: a PEFT folder to load."""
    import torch
    from transformers import AutoModelForCausalLM

    check_model_source(name)
    kwargs = {"use_safetensors": True, "dtype": dtype}
    if method == "qlora":
        kwargs.update(nf4_kwargs(dtype, device, "QLoRA"))
    try:
        model = AutoModelForCausalLM.from_pretrained(name, **kwargs)
    except OSError as e:
        raise JobError("input", f"cannot load model {name}: {str(e).splitlines()[0]}")
    except Exception as e:  # noqa: BLE001
        if method == "qlora" and device == "cpu":
            import bitsandbytes

            raise JobError("needs_gpu", f"QLoRA needs a GPU here: bitsandbytes {bitsandbytes.__version__} cannot load a 4-bit model on this CPU ({str(e).splitlines()[0] if str(e) else type(e).__name__})")
        raise
    if method != "qlora":
        model.to(device)
    model.config.use_cache = False
    if method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    elif gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    if adapter:
        from peft import PeftModel

        if os.path.isdir(adapter) and not os.path.exists(os.path.join(adapter, "adapter_model.safetensors")):
            raise JobError("input", f"adapter folder {adapter} has no adapter_model.safetensors (fitlab never loads pickled adapter_model.bin)")

        model = PeftModel.from_pretrained(model, adapter, is_trainable=method in ("lora", "qlora"))
    elif method in ("lora", "qlora"):
        from peft import LoraConfig, get_peft_model

        targets = lora["targets"]
        cfg = LoraConfig(r=lora["rank"], lora_alpha=lora["alpha"], lora_dropout=lora.get("dropout", 0.0), target_modules=targets, task_type="CAUSAL_LM")
        model = get_peft_model(model, cfg)
    elif method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
    return model
