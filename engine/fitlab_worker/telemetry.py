"""GPU telemetry per optimizer step through NVML (the nvidia-ml-py package, imported as pynvml):
utilisation, power, temperature and SM clock, and the device-level memory peak (what nvidia-smi shows
for this process: the allocator's reserved memory plus the CUDA context and library workspaces), beside
torch's allocator counters. A sampler thread reads NVML every 50 ms, because a step's memory peak and
mean power fall between step boundaries. Without a GPU, without NVML or on a CPU run, `start` returns a
recorder whose step() is empty, so the training loop has no branch for it.
"""
import os
import threading

PERIOD_S = 0.05


class _Off:
    def step(self):
        return {}

    def run_peak_bytes(self):
        return None

    def summary(self):
        return {}

    def stop(self):
        pass


class _Nvml:
    def __init__(self, pynvml, handle):
        self.nv = pynvml
        self.h = handle
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self._reset_step()
        self.peak = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="fitlab-nvml")
        self.thread.start()

    def _reset_step(self):
        self.samples = 0
        self.util = 0.0
        self.power = 0.0
        self.clock = 0.0
        self.temp = 0
        self.step_peak = 0

    def _used(self):
        """This process's device memory (nvidia-smi's per-process figure), else the device's used memory."""
        nv = self.nv
        try:
            for p in nv.nvmlDeviceGetComputeRunningProcesses(self.h):
                if p.pid == self.pid and p.usedGpuMemory:
                    return int(p.usedGpuMemory)
        except nv.NVMLError:
            pass
        return int(nv.nvmlDeviceGetMemoryInfo(self.h).used)

    def _loop(self):
        nv = self.nv
        while not self.stopped.wait(PERIOD_S):
            try:
                used = self._used()
                util = nv.nvmlDeviceGetUtilizationRates(self.h).gpu
                power = nv.nvmlDeviceGetPowerUsage(self.h) / 1000.0
                temp = nv.nvmlDeviceGetTemperature(self.h, nv.NVML_TEMPERATURE_GPU)
                clock = nv.nvmlDeviceGetClockInfo(self.h, nv.NVML_CLOCK_SM)
            except nv.NVMLError:
                continue
            with self.lock:
                self.samples += 1
                self.util += util
                self.power += power
                self.clock += clock
                self.temp = max(self.temp, temp)
                self.step_peak = max(self.step_peak, used)
                self.peak = max(self.peak, used)

    def step(self):
        """Means over the step (utilisation %, power W, SM clock MHz), the hottest reading, the step's device peak."""
        with self.lock:
            n = max(self.samples, 1)
            out = {
                "gpu_util_pct": round(self.util / n, 1) if self.samples else None,
                "power_w": round(self.power / n, 1) if self.samples else None,
                "temperature_c": self.temp if self.samples else None,
                "sm_clock_mhz": round(self.clock / n) if self.samples else None,
                "device_peak_bytes": self.step_peak or None,
            }
            self._reset_step()
        return out

    def run_peak_bytes(self):
        with self.lock:
            return self.peak or None

    def summary(self):
        return {"device_peak_bytes": self.run_peak_bytes()}

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=1)


def _handle(pynvml, torch):
    """The NVML handle of torch's current device, matched by PCI address (CUDA and NVML order may differ)."""
    p = torch.cuda.get_device_properties(torch.cuda.current_device())
    try:
        return pynvml.nvmlDeviceGetHandleByPciBusId_v2(f"{p.pci_domain_id:08x}:{p.pci_bus_id:02x}:{p.pci_device_id:02x}.0".encode())
    except Exception:  # noqa: BLE001
        return pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())


def start(device):
    if device != "cuda":
        return _Off()
    try:
        import pynvml
        import torch

        pynvml.nvmlInit()
        return _Nvml(pynvml, _handle(pynvml, torch))
    except Exception:  # noqa: BLE001 - no NVML library or driver: the allocator counters still come
        return _Off()
