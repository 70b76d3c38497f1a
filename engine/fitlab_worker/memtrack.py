"""Live tensor bytes on any device, op by op: a TorchDispatchMode that counts every storage an op creates
and uncounts it when the storage is freed. The CPU stand-in for torch.cuda.max_memory_allocated(): the same
aten ops allocate the same tensors on CUDA (kernel workspaces aside), so a term of the planner can be checked
on a machine without a GPU. Views and in-place results (outputs sharing an input's storage) are not new."""
import weakref


def tracker():
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class LiveBytes(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.live = 0
            self.peak = 0
            self._seen = set()

        def reset_peak(self):
            self.peak = self.live

        def _storages(self, values):
            out = []
            for t in tree_flatten(values)[0]:
                if isinstance(t, torch.Tensor) and t.layout == torch.strided:
                    out.append(t.untyped_storage())
            return out

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            inputs = {s.data_ptr() for s in self._storages((args, kwargs))}
            for st in self._storages(result):
                key = st.data_ptr()
                n = st.nbytes()
                if n == 0 or key in inputs or key in self._seen:
                    continue
                self._seen.add(key)
                self.live += n
                self.peak = max(self.peak, self.live)
                weakref.finalize(st, self._freed, key, n)
            return result

        def _freed(self, key, n):
            self._seen.discard(key)
            self.live -= n

    return LiveBytes()
