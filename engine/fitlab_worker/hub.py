"""Models by Hugging Face id, through huggingface_hub: safetensors only, the resolved commit recorded,
HF_TOKEN for gated models, HF_HUB_OFFLINE honoured, download progress as protocol events.

A local folder passes through unchanged (after the safetensors check). A hub id is resolved to one
commit (HfApi.model_info), refused when the repo has only pickled weights, and downloaded with
snapshot_download restricted to configs, safetensors and tokenizer files; transformers then loads the
local snapshot folder, so nothing else reaches the network. The resolved commit is pinned in the run
folder (model_source.json) so a resumed run loads the very same weights.
HF_ENDPOINT (read by huggingface_hub) points it at a mirror, or at the tests' stand-in server.
"""
import json
import os
import re
import time

from .protocol import JobError

# configs, weights, tokenizers (sentencepiece .model and tiktoken files are not pickles), chat templates
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.model", "*.tiktoken", "*.txt"]
PICKLES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def is_local(name):
    return os.path.isdir(name) or name.startswith((".", "/", "~")) or os.sep in name and name.count("/") != 1


def hub_token():
    """HF_TOKEN, else the token `huggingface-cli login` saved."""
    tok = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if tok:
        return tok
    try:
        from huggingface_hub import get_token

        return get_token()
    except Exception:  # noqa: BLE001
        return None


def offline():
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def endpoint():
    from huggingface_hub import constants

    return constants.ENDPOINT


def progress_class(emit, what):
    """A tqdm class whose byte bar reports as `progress` events (at most twice a second)."""
    from tqdm.auto import tqdm

    class Progress(tqdm):
        _last = 0.0

        def update(self, n=1):
            out = super().update(n)
            if self.unit == "B" and str(self.desc).startswith("Downloading") and self.total:
                now = time.time()
                if now - self._last >= 0.5 or self.n >= self.total:
                    self._last = now
                    emit("progress", job="download", step=int(self.n), total=int(self.total), message=f"downloading {what}: {_size(self.n)} of {_size(self.total)}")
            return out

    return Progress


def unreachable(name, err):
    return JobError("input", f"cannot reach {endpoint()} to fetch {name} ({type(err).__name__}): check the network, or set HF_HUB_OFFLINE=1 to use what is cached")


def gated_message(kind, name):
    if hub_token():
        return f"{kind} {name} is gated and the token in HF_TOKEN has no access to it: accept its terms at https://huggingface.co/{name} with that account"
    return f"{kind} {name} is gated: accept its terms at https://huggingface.co/{name} and set HF_TOKEN to a token of that account"


def _check_files(name, files, where):
    if any(f.endswith(".safetensors") for f in files):
        return
    if any(f.endswith(PICKLES) for f in files):
        raise JobError("input", f"model {name} has only pickled weights ({next(f for f in files if f.endswith(PICKLES))}) {where}: fitlab loads safetensors only; pick a revision or a repo with .safetensors weights")
    raise JobError("input", f"model {name} has no weights {where}")


_resolved = {}


def materialize(name, emit, revision=None, pin_dir=None):
    """Local path of a model and where it came from: {path, id, revision, sha, source}. Once per process:
    the worker resolves a job's model before importing torch (__main__.py), so a model that cannot be had
    fails in about a second, and the job's own call finds it here."""
    key = (name, revision, pin_dir)
    if key not in _resolved:
        _resolved[key] = _materialize(name, emit, revision, pin_dir)
    return _resolved[key]


def _materialize(name, emit, revision, pin_dir):
    from .model import check_model_source

    if is_local(name):
        check_model_source(name)
        return {"path": os.path.abspath(os.path.expanduser(name)), "id": name, "revision": None, "sha": None, "source": "local"}
    if not HUB_ID.match(name):
        raise JobError("input", f"model {name!r} is neither a folder nor a Hugging Face id (owner/name)")
    pin = os.path.join(pin_dir, "model_source.json") if pin_dir else None
    if pin and os.path.exists(pin):
        with open(pin) as f:
            pinned = json.load(f)
        if pinned.get("id") == name and pinned.get("sha"):
            revision = pinned["sha"]  # a resumed run loads the weights it started with
    revision = revision or "main"
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    token = hub_token()
    if offline():
        try:
            path = snapshot_download(name, revision=revision, allow_patterns=ALLOW_PATTERNS, local_files_only=True, token=token)
        except (LocalEntryNotFoundError, FileNotFoundError, OSError):
            raise JobError("input", f"model {name} (revision {revision}) is not in the Hugging Face cache and HF_HUB_OFFLINE=1 forbids downloading it: run once with network, or unset HF_HUB_OFFLINE")
        _check_files(name, os.listdir(path), "in the cache")
        source = {"path": path, "id": name, "revision": revision, "sha": os.path.basename(path), "source": "cache"}
    else:
        api = HfApi()
        try:
            info = api.model_info(name, revision=revision, token=token, files_metadata=True)
        except GatedRepoError:
            raise JobError("input", gated_message("model", name))
        except RevisionNotFoundError:
            raise JobError("input", f"model {name} has no revision {revision!r} on {endpoint()}")
        except RepositoryNotFoundError:
            raise JobError("input", f"model {name} does not exist on {endpoint()}{'' if token else ' (or it is private: set HF_TOKEN)'}")
        except Exception as e:  # noqa: BLE001 - connection errors come from httpx2 or requests
            if "connect" in type(e).__name__.lower() or "timeout" in type(e).__name__.lower() or isinstance(e, OSError):
                raise unreachable(name, e)
            raise
        files = [s.rfilename for s in info.siblings or []]
        _check_files(name, files, f"at {info.sha[:12]}")
        if info.gated and not token:
            raise JobError("input", gated_message("model", name))
        wanted = [s for s in info.siblings or [] if any(_match(s.rfilename, p) for p in ALLOW_PATTERNS)]
        size = sum((s.size or 0) for s in wanted)
        emit("progress", job="download", step=0, total=max(size, 1), message=f"fetching {name} at {info.sha[:12]} ({_size(size)} of safetensors, configs and tokenizer)")
        try:
            path = snapshot_download(name, revision=info.sha, allow_patterns=ALLOW_PATTERNS, token=token, tqdm_class=progress_class(emit, name))
        except GatedRepoError:
            raise JobError("input", gated_message("model", name))
        except Exception as e:  # noqa: BLE001
            if "connect" in type(e).__name__.lower() or "timeout" in type(e).__name__.lower():
                raise unreachable(name, e)
            raise
        _remember_ref(path, revision, info.sha)
        source = {"path": path, "id": name, "revision": revision, "sha": info.sha, "source": "hub"}
    if pin:
        os.makedirs(pin_dir, exist_ok=True)
        with open(pin + ".tmp", "w") as f:
            json.dump({k: v for k, v in source.items() if k != "path"}, f, indent=2)
        os.replace(pin + ".tmp", pin)
    return source


def _match(name, pattern):
    import fnmatch

    return fnmatch.fnmatch(name, pattern)


def _size(n):
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _remember_ref(snapshot, revision, sha):
    """Downloading by commit leaves no refs/<branch> in the cache (huggingface_hub writes one only for the
    revision it was given), so an offline run asking for "main" would not find it: write the ref as the
    cache layout has it (<repo folder>/refs/<revision> holding the commit)."""
    if revision == sha or re.fullmatch(r"[0-9a-f]{40}", revision or ""):
        return
    refs = os.path.join(os.path.dirname(os.path.dirname(snapshot)), "refs")
    try:
        os.makedirs(os.path.dirname(os.path.join(refs, revision)), exist_ok=True)
        with open(os.path.join(refs, revision), "w") as f:
            f.write(sha)
    except OSError:
        pass  # a read-only cache: offline use then needs the commit itself as the revision
