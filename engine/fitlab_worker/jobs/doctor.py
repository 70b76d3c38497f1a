"""Job: report the Python stack, the GPU, and whether the installed kernels support it."""
import importlib
import platform
import shutil


def _version(mod):
    try:
        return importlib.import_module(mod).__version__
    except Exception as e:  # noqa: BLE001
        return None if isinstance(e, ImportError) else f"error: {type(e).__name__}"


def run(config, emit):
    report = {"python": platform.python_version(), "platform": platform.platform()}
    for mod in ["torch", "transformers", "peft", "accelerate", "safetensors", "bitsandbytes"]:
        report[mod] = _version(mod)
    report["nvidia_smi"] = shutil.which("nvidia-smi") is not None
    problems = []
    try:
        import torch
    except ImportError:
        return {"report": report, "problems": ["torch is not installed: run `fitlab engine setup`"]}
    report["cuda_build"] = torch.version.cuda
    report["cuda_available"] = torch.cuda.is_available()
    # the compiled arch list is readable without a GPU (get_arch_list() needs CUDA initialised)
    flags = ""
    try:
        flags = torch._C._cuda_getArchFlags() or ""
    except Exception:  # noqa: BLE001
        flags = ""
    report["torch_arch_list"] = flags.split() if flags else (torch.cuda.get_arch_list() if torch.cuda.is_available() else [])
    # Blackwell consumer cards (RTX 50xx, e.g. the 5060 Ti) are sm_120
    report["torch_has_sm_120"] = any(a in ("sm_120", "compute_120") for a in report["torch_arch_list"])
    gpus = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            cc = f"{p.major}.{p.minor}"
            sm = f"sm_{p.major}{p.minor}"
            free, total = torch.cuda.mem_get_info(i)
            has_kernels = any(a == sm or (a.startswith("compute_") and int(a.split("_")[1]) <= p.major * 10 + p.minor) for a in report["torch_arch_list"])
            gpus.append({"index": i, "name": p.name, "compute_capability": cc, "total_bytes": total, "free_bytes": free, "torch_has_kernels": has_kernels})
            if not has_kernels:
                problems.append(f"torch {report['torch']} has no kernels for {p.name} ({sm}): install a torch build whose arch list includes {sm} (PyTorch >= 2.7 with CUDA 12.8 for Blackwell sm_120)")
    else:
        problems.append("no CUDA GPU visible: the worker runs on the CPU (fine for the tiny demo; real 7B runs need a GPU)")
    report["gpus"] = gpus
    # the lean runner's fused path (loss.py, kernels.py): Liger's Triton kernels on CUDA
    from .. import loss as lossmod

    facts = lossmod.probe_machine()
    report["triton"], report["liger_kernel"] = facts["triton"], facts["liger"]
    report["fused_loss"] = lossmod.fused_unavailable_reason(facts, "bfloat16") or "available: --loss auto uses Liger's fused linear cross-entropy"
    bnb = report["bitsandbytes"]
    report["bnb_4bit_cpu"] = False
    if bnb and not str(bnb).startswith("error"):
        try:
            from bitsandbytes.functional import quantize_4bit

            quantize_4bit(torch.randn(64, 64), quant_type="nf4")
            report["bnb_4bit_cpu"] = True
        except Exception as e:  # noqa: BLE001
            report["bnb_4bit_cpu_error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
        if gpus:
            try:
                from bitsandbytes.functional import quantize_4bit

                quantize_4bit(torch.randn(64, 64, device="cuda"), quant_type="nf4")
                report["bnb_4bit_gpu"] = True
            except Exception as e:  # noqa: BLE001
                report["bnb_4bit_gpu"] = False
                problems.append(f"bitsandbytes {bnb} cannot quantize on this GPU ({str(e).splitlines()[0] if str(e) else type(e).__name__}): install bitsandbytes >= 0.45")
    else:
        problems.append("bitsandbytes is not installed: QLoRA is unavailable; run `fitlab engine setup`")
    return {"report": report, "problems": problems}
