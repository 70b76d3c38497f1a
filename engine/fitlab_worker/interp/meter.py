"""Peak memory of an extraction above the loaded model, on the GPU (live tensor bytes from the CUDA caching
allocator) or on the CPU (resident set size, with the kernel's high-water mark reset through
/proc/self/clear_refs, Documentation/admin-guide/mm/soft-dirty.rst: writing 5 resets VmHWM)."""
import resource


def _status(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class Meter:
    """start() after the model is loaded; stop() returns the peak, the baseline and the transient above it."""

    def __init__(self, device):
        self.device = device
        self.baseline = 0
        self.source = None

    def start(self):
        import gc

        import torch

        gc.collect()
        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.baseline = torch.cuda.memory_allocated()
            self.source = "cuda_max_memory_allocated"
            return
        self.baseline = _status("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.source = "cpu_peak_rss"
        except OSError:
            self.source = "cpu_peak_rss_since_start"  # cannot reset the high-water mark: includes loading

    def stop(self):
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated()
        else:
            peak = _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return {"peak_bytes": int(peak), "baseline_bytes": int(self.baseline), "transient_bytes": int(max(0, peak - self.baseline)), "memory_source": self.source}
