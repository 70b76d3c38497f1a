"""torchrun as fitlab starts it (python -m fitlab_worker.torchrun --nproc_per_node N -m fitlab_worker): the
launcher ends with fitlab (Linux PR_SET_PDEATHSIG, as a one-process worker does, __main__.die_with_parent) and
its processes end with the launcher, so a killed fitlab never leaves ranks training."""
import os
import sys


def main():
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        expected = os.environ.get("FITLAB_PARENT_PID")
        if expected and os.getppid() != int(expected):  # fitlab died before the call
            os._exit(1)
    except Exception:  # noqa: BLE001 - other systems: best effort
        pass
    from torch.distributed.run import main as torchrun

    torchrun(sys.argv[1:])


if __name__ == "__main__":
    main()
