"""Load fitlab's SkyPilot tasks with SkyPilot itself (sky.Task.from_yaml_config), as `sky launch` would,
and print what it understood. Needs skypilot, which is not part of the worker: use a throwaway venv.

  python3 -m venv /tmp/skyvenv && /tmp/skyvenv/bin/pip install skypilot
  npx fitlab burst A.qlora-basic --out t.yaml
  /tmp/skyvenv/bin/python bench/check_skypilot_task.py t.yaml
"""
import sys

import sky
import yaml

for path in sys.argv[1:]:
    config = yaml.safe_load(open(path))
    # the HF_TOKEN secret arrives with `sky launch --secret HF_TOKEN`
    task = sky.Task.from_yaml_config(config, secrets_overrides=[("HF_TOKEN", "hf_example")])
    res = list(task.resources)[0]
    print(f"{path}: skypilot {sky.__version__}: task {task.name!r}, {res.accelerators}, spot={res.use_spot}, disk={res.disk_size} GB, autostop={res.autostop_config}")
    print(f"  envs {sorted(task.envs)}; secrets {sorted(task.secrets)}; storage mounts {sorted(task.storage_mounts)}")
    print(f"  setup runs: {' | '.join(l for l in task.setup.splitlines() if l.startswith(('npm', 'npx')))}")
    print(f"  run runs:   {' | '.join(l for l in task.run.splitlines() if 'fitlab run' in l or l.startswith(('cp ', 'exit')))}")
