"""Data parallelism across processes started by torchrun (fitlab starts `python -m torch.distributed.run
--nproc_per_node N -m fitlab_worker` for an experiment with nGpus > 1): NCCL on GPUs, gloo on the CPU.

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
    rank, size, main = 0, 1, True

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

    def close(self):
        pass


class DataParallel:
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


def setup(device):
    """Single() in one process; DataParallel when torchrun started several (WORLD_SIZE > 1)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Single()
    return DataParallel(device)
