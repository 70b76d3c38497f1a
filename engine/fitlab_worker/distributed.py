"""Data parallelism across processes started by torchrun (fitlab starts `python -m torch.distributed.run
--nproc_per_node N -m fitlab_worker` for an experiment with nGpus > 1): NCCL on GPUs, gloo on the CPU.
Two arrangements: DataParallel (sharding ddp: every process holds the whole model) and FullyShard (sharding
fsdp: torch's FSDP2, each process holds 1/N of every parameter, gradient and optimizer state).

The batch: `batch_size` is each process's micro-batch, as the planner counts it (sequences per micro-batch
per GPU), so N processes step on a global micro-batch of N x batch_size; the same global batch in one
process gives the same loss curve.

Every process holds the whole model (DDP's arrangement) and computes a contiguous slice of each global
micro-batch; after the gradient accumulation the gradients are summed across processes in one flattened
all-reduce. The loss each process backpropagates is its share of the global token mean (its own mean
times its label tokens over the micro-batch's), so the summed gradient, the clipped norm, the optimizer
step and the logged loss equal the one-process run's at the same global batch and seed up to float
rounding. What differs from torch's DistributedDataParallel wrapper: no bucketed overlap of the
all-reduce with the backward pass (one all-reduce per optimizer step, as DDP with no_sync during
accumulation); the model object stays unwrapped, so the training loop, PEFT and checkpointing see the
same module in one process or many.

Only rank 0 speaks the protocol and writes the run folder; other ranks write theirs under
`.rank<N>/` inside it (same data, same checkpoints), which a resumed run reads back.
"""
import os


class Single:
    rank, size, main, shards = 0, 1, True, False

    def output_dir(self, out):
        return out

    def shard(self, batch):
        return batch

    def scale(self, loss, labels):
        return loss, loss.detach()

    def sum(self, n):
        return n

    def sync_grads(self, params):
        pass

    def wrap(self, model, compute_dtype):
        return model

    def unshard(self):
        pass

    def reshard(self):
        pass

    def clip(self, params, max_norm):
        import torch

        return float(torch.nn.utils.clip_grad_norm_(params, max_norm))

    def save(self, out, step, model, optimizer, scheduler, trainer_state):
        from . import ckpt

        return ckpt.save(out, step, model, optimizer, scheduler, trainer_state)

    def resume(self, out, total_steps, metrics_path, model, optimizer, scheduler, emit):
        from . import ckpt

        return ckpt.resume(out, total_steps, metrics_path, model, optimizer, scheduler, emit)

    def close(self):
        pass


class DataParallel(Single):
    shards = False

    def __init__(self, device):
        import torch
        import torch.distributed as dist

        self.dist = dist
        if device == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device == "cuda" else "gloo")
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.main = self.rank == 0
        self.device = torch.device("cuda", torch.cuda.current_device()) if device == "cuda" else torch.device("cpu")
        self._empty = False

    def output_dir(self, out):
        return out if self.main else os.path.join(out, f".rank{self.rank}")

    def shard(self, batch):
        """This rank's contiguous slice, sizes differing by at most one (an epoch's last micro-batch may be
        short). A rank left with nothing computes the first example with weight 0, so every rank still
        joins each all-reduce."""
        n = len(batch)
        start = self.rank * n // self.size
        end = (self.rank + 1) * n // self.size
        self._empty = start == end
        return batch[:1] if self._empty else batch[start:end]

    def scale(self, loss, labels):
        """(objective to backpropagate, the global micro-batch loss for the log). The model's loss is the mean
        over this rank's label tokens after the one-token shift (transformers ForCausalLMLoss)."""
        import torch

        n_local = (labels[..., 1:] != -100).sum().to(torch.float64) * (0 if self._empty else 1)
        n_global = n_local.clone()
        self.dist.all_reduce(n_global)
        objective = loss * (n_local / n_global).to(loss.dtype)
        reported = objective.detach().clone()
        self.dist.all_reduce(reported)
        return objective, reported

    def sum(self, n):
        import torch

        t = torch.tensor([n], dtype=torch.float64, device=self.device)
        self.dist.all_reduce(t)
        return int(t.item())

    def sync_grads(self, params):
        """Sum every gradient across processes: one flattened all-reduce (the objective is already weighted)."""
        import torch

        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        self.dist.all_reduce(flat)
        offset = 0
        for g in grads:
            n = g.numel()
            g.copy_(flat[offset : offset + n].view_as(g))
            offset += n

    def close(self):
        if self.dist.is_initialized():
            self.dist.destroy_process_group()


class FullyShard(DataParallel):
    """FSDP2 (torch.distributed.fsdp.fully_shard, torch 2.9): every decoder layer is one unit and the
    transformers model (embeddings, final norm, lm_head) the root unit; parameters, gradients and optimizer
    state live sharded (Shard(0) DTensors, 1/N per process). A unit's parameters are all-gathered just before
    its forward and freed after it (reshard_after_forward), gathered again for its backward, and its
    gradients reduce-scattered into the shards right after (torch/distributed/fsdp/_fully_shard/
    _fsdp_param_group.py pre_forward, post_forward, post_backward). The root unit is gathered once per
    micro-batch and kept until its backward (FSDP2 does not reshard the root after forward, _fsdp_state.py
    _lazy_init): the worker gathers it explicitly (unshard) before each micro-batch and evaluation, because
    the chunked and fused losses call the decoder and lm_head apart from the root's forward.

    Precision (MixedPrecisionPolicy): on a GPU with a 16-bit compute dtype the sharded parameters, and so the
    optimizer state, stay in fp32 and are cast to bf16/fp16 when gathered, and gradients are reduced in fp32:
    the "mixed" FSDP recipe the planner assumes (4 + 4 + 8 bytes per parameter over N for AdamW). On the CPU
    everything is fp32 and nothing is cast.

    Reduction: gradients are summed across processes (set_force_sum_reduction_for_comms, divide factor 1):
    each process backpropagates its share of the global token mean (DataParallel.scale), so the sum is the
    one-process gradient. FSDP2's default would average (ReduceOp.AVG), halving it on two processes.

    Checkpoints stay one safetensors layout for any number of processes: the full model (or adapter) and the
    full optimizer state are gathered to rank 0 in CPU memory (torch.distributed.checkpoint.state_dict,
    full_state_dict + cpu_offload) and written there, optimizer state keyed by parameter index as a
    one-process run writes it; on resume rank 0 reads them and they are scattered back into the shards
    (broadcast_from_rank0). A run started on N processes resumes on any number, or on one.
    """

    shards = True

    def __init__(self, device):
        super().__init__(device)
        from torch.distributed.device_mesh import init_device_mesh

        self.mesh = init_device_mesh(self.device.type, (self.size,))
        self.root = None
        self.model = None

    def wrap(self, model, compute_dtype):
        """Shard the model in place: each decoder layer, then the transformers model as the root."""
        import torch
        from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard

        from .protocol import JobError

        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        layers = getattr(base.get_decoder(), "layers", None)
        if not isinstance(layers, torch.nn.ModuleList):
            raise JobError("input", f"FSDP in the worker shards decoder layers, and {type(base).__name__} has none it can find: use sharding ddp")
        cast = compute_dtype if compute_dtype in (torch.bfloat16, torch.float16) else None
        mp = MixedPrecisionPolicy(param_dtype=cast, reduce_dtype=torch.float32 if cast else None)
        for layer in layers:
            fully_shard(layer, mesh=self.mesh, mp_policy=mp)
        fully_shard(base, mesh=self.mesh, mp_policy=mp)
        for m in base.modules():
            if isinstance(m, FSDPModule):
                m.set_force_sum_reduction_for_comms(True)
                m.set_gradient_divide_factor(1.0)
        # FSDP settles which unit is the root on the first forward through it (_fsdp_state.py _lazy_init); a unit
        # reached first some other way (unshard(), or the decoder called directly by the chunked loss) would
        # become a root of its own and the root unit's gradients would never be reduced. One token, no grad.
        with torch.no_grad():
            base(input_ids=torch.zeros((1, 1), dtype=torch.long, device=self.device), use_cache=False)
        base.reshard()  # the root stays gathered after a forward: back to the shards, which the optimizer must hold
        self.root, self.model = base, model
        return model

    def unshard(self):
        self.root.unshard()

    def reshard(self):
        self.root.reshard()

    def sync_grads(self, params):
        pass  # FSDP reduce-scatters each unit's gradients during backward

    def clip(self, params, max_norm):
        """The global norm over every shard (a DTensor reduced across processes), and the clipped shards."""
        import torch
        from torch.distributed.tensor import DTensor

        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        return float(norm.full_tensor() if isinstance(norm, DTensor) else norm)

    def state_bytes(self, params, optimizer):
        """This process's share of the training state, as allocated: the local shards of the parameters (all
        of them, frozen ones too), of the gradients and of the optimizer state (what the planner divides by N)."""
        from torch.distributed.tensor import DTensor

        local = lambda t: t.to_local() if isinstance(t, DTensor) else t  # noqa: E731
        size = lambda t: local(t).numel() * local(t).element_size()  # noqa: E731
        opt = sum(size(v) for st in optimizer.state.values() for v in st.values() if hasattr(v, "numel") and v.dim() > 0)
        return {"params": sum(size(p) for p in self.root.parameters()), "grads": sum(size(p.grad) for p in params if p.grad is not None), "optimizer": opt}

    # ---- checkpoints ------------------------------------------------------------------------------
    def _options(self, **kw):
        from torch.distributed.checkpoint.state_dict import StateDictOptions

        return StateDictOptions(full_state_dict=True, **kw)

    def save(self, run_dir, step, model, optimizer, scheduler, trainer_state):
        """Gather the full model and optimizer state to rank 0 (collective) and write one checkpoint there."""
        from torch.distributed.checkpoint.state_dict import get_model_state_dict, get_optimizer_state_dict

        from . import ckpt

        model_state = get_model_state_dict(model, options=self._options(cpu_offload=True))
        optim_state = get_optimizer_state_dict(model, optimizer, options=self._options(cpu_offload=True))
        path = None
        if self.main:
            path = ckpt.save(run_dir, step, model, optimizer, scheduler, {**trainer_state, "processes": self.size, "sharding": "fsdp"}, model_state=model_state, optimizer_state=by_index(optim_state))
        self.dist.barrier()
        return path

    def resume(self, run_dir, total_steps, metrics_path, model, optimizer, scheduler, emit):
        """Rank 0 picks the newest checkpoint that verifies (quarantining the others) and every process loads
        it into its shards. Returns the trainer state, or None to start over."""
        import torch
        from torch.distributed.checkpoint.state_dict import set_model_state_dict, set_optimizer_state_dict

        from . import ckpt

        choice = [None]
        if self.main:
            candidates, skipped = ckpt.verified_checkpoints(run_dir, total_steps, metrics_path)
            for name, why, kept_as in skipped:
                emit("log", message=f"skipped {name}: {why} (kept as {kept_as})")
            choice = [candidates[0] if candidates else None]
        self.dist.broadcast_object_list(choice, src=0)
        path = choice[0]
        if path is None:
            return None
        model_sd, optim_sd = {}, {}
        if self.main:
            model_sd = full_model_state(path, model)
            optim_sd = by_name(ckpt.read_optimizer(path), optimizer, model)
        set_model_state_dict(model, model_sd, options=self._options(broadcast_from_rank0=True, strict=False))
        set_optimizer_state_dict(model, optimizer, optim_sd, options=self._options(broadcast_from_rank0=True))
        state = ckpt.read_trainer_state(path)
        torch.set_rng_state(ckpt.read_rng(path))
        scheduler.load_state_dict(state["scheduler"])
        emit("log", message=f"resumed from {os.path.basename(path)}")
        return state


def by_index(optim_state):
    """An optimizer state keyed by parameter name (torch.distributed.checkpoint) as torch's own state_dict
    keys it: parameters numbered in order across the groups."""
    ids, groups = {}, []
    for g in optim_state["param_groups"]:
        params = []
        for name in g["params"]:
            ids[name] = len(ids)
            params.append(ids[name])
        groups.append({**g, "params": params})
    return {"state": {ids[k]: v for k, v in optim_state["state"].items()}, "param_groups": groups}


def by_name(optim_state, optimizer, model):
    """The inverse of by_index for this optimizer's parameters (their names in the model)."""
    names = {id(p): n for n, p in model.named_parameters()}
    order = [names[id(p)] for g in optimizer.param_groups for p in g["params"]]
    groups = [{**g, "params": [order[i] for i in g["params"]]} for g in optim_state["param_groups"]]
    return {"state": {order[int(i)]: v for i, v in optim_state["state"].items()}, "param_groups": groups}


def full_model_state(path, model):
    """A checkpoint's weights keyed as the model's own state_dict: a PEFT adapter file names its tensors
    without the adapter ("...lora_A.weight"; peft/utils/save_and_load.py), the model has "...lora_A.default.weight"."""
    from safetensors.torch import load_file

    files = sorted(f for f in os.listdir(path) if f.endswith(".safetensors") and f != "optimizer.safetensors")
    weights = {}
    for f in files:
        weights.update(load_file(os.path.join(path, f)))
    if "adapter_model.safetensors" not in files:
        return weights
    out = {}
    for key in model.state_dict().keys():
        saved = key.replace(".default.", ".")
        if saved in weights:
            out[key] = weights[saved]
    return out


def setup(device, sharding="ddp"):
    """Single() in one process; DataParallel or FullyShard when torchrun started several (WORLD_SIZE > 1)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Single()
    return FullyShard(device) if sharding == "fsdp" else DataParallel(device)
