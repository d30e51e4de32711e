"""The README and the docs are true: their examples run and train, and CI runs the README's test command."""

import pathlib
import re

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


EXAMPLES = re.findall(r"```python\n(.*?)```", README, re.S)
# The docs pages' examples (the optimizer example is the README's, included there).
DOC_EXAMPLES = [
  e
  for page in sorted((ROOT / "docs").rglob("*.md"))
  for e in re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
]


def test_readme_api_example_runs_and_lowers_the_loss():
  example = EXAMPLES[0]
  namespace = {}
  exec(compile(example, "README.md", "exec"), namespace)
  first_loss = float(np.mean(np.sum(np.asarray(namespace["y"]) ** 2, axis=1)))
  assert float(namespace["loss"]) < 0.05 * first_loss
  theta = namespace["theta"]
  assert theta.keys() == namespace["params"].keys()


@pytest.mark.filterwarnings("ignore:.*nnx.State.*:DeprecationWarning")
def test_readme_nnx_example_runs_after_the_first_and_gives_theta_as_params():
  (example,) = [e for e in EXAMPLES if "nnx.Optimizer" in e]
  namespace = {}
  exec(compile(EXAMPLES[0], "README.md", "exec"), namespace)
  exec(compile(example, "README.md", "exec"), namespace)
  from flax import nnx

  model, evaluated, x, y = (namespace[k] for k in ("model", "evaluated", "x", "y"))
  loss = lambda m: float(np.mean((np.asarray(m(x)) - np.asarray(y)) ** 2))
  assert loss(evaluated) < 0.1 * float(np.mean(np.asarray(y) ** 2))  # θ trained
  assert loss(evaluated) != loss(model)  # θ, not the stored look-ahead point
  assert isinstance(namespace["theta"]["kernel"], nnx.Param)


def test_readme_hessian_free_example_runs_and_lowers_the_loss():
  (example,) = [e for e in DOC_EXAMPLES if "hessian_free" in e]
  namespace = {}
  exec(compile(example, "README.md", "exec"), namespace)
  first_loss = 20 * float(np.log(2.0))  # zero output weights: every output is 1/2
  assert float(namespace["hf_loss"]) < 0.1 * first_loss
  assert int(namespace["state"].count) == 20


def test_ci_runs_exactly_the_readme_test_command():
  quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
  (commands,) = re.findall(r"```bash\n(.*?)```", quick_start, re.S)
  install_and_run, install_and_test = commands.strip().splitlines()
  assert "nesterov-jax run" in install_and_run
  assert install_and_test in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_readme_sweep_your_own_model_file_runs_from_a_folder_of_its_own(tmp_path, monkeypatch):
  """The "Sweep your own model" file, saved outside the package and run by the command: NAG,
  Adam and the user's chain, every ε × seed, one program; the report is written."""
  import json

  from nesterov_jax import cli

  (example,) = [e for e in DOC_EXAMPLES if "def get_config" in e]
  (tmp_path / "my_sweep.py").write_text(example)
  monkeypatch.chdir(tmp_path)
  assert cli.main(["run", "my_sweep.py"]) == 0
  run = tmp_path / "runs" / "my_sweep"
  records = json.loads((run / "results.json").read_text())
  optimizers = {r["optimizer"] for r in records}
  assert optimizers == {"nag", "adam", "my_sweep:clipped_nag"}
  assert len(records) == (2 + 1 + 2) * 4 * 2  # (NAG, chain) × 2 μ_max + Adam, × 4 ε × 2 seeds
  initial = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])["train_error"]
  assert all(not r["diverged"] or r["learning_rate"] == 0.3 for r in records)
  best = min(r["final_train_error"] for r in records if not r["diverged"])
  assert best < 0.02 * initial[0]
  assert {"summary.md", "error_curves.png", "lr_mu_heatmap.png"} <= {p.name for p in run.iterdir()}
  assert json.loads((run / "source.json").read_text())["folder"] == str(tmp_path)
  # A later process elsewhere rebuilds the user's task as the run found it (source.json).
  import subprocess
  import sys

  code = (
    "from nesterov_jax.engine import train; import sys; "
    "_, task, _, point = train.load_final_state(__import__('pathlib').Path(sys.argv[1])); "
    "print(task.name, point(0).params is not None)"
  )
  r = subprocess.run(
    [sys.executable, "-c", code, str(run)], capture_output=True, text=True, cwd=ROOT
  )
  assert r.stdout.split() == ["sine", "True"], r.stdout + r.stderr
  # ... and still does when the user's folder, run included, has moved (a clone elsewhere).
  import shutil

  moved = tmp_path.parent / (tmp_path.name + "_moved")
  shutil.copytree(tmp_path, moved)
  (tmp_path / "my_sweep.py").unlink()
  r = subprocess.run(
    [sys.executable, "-c", code, str(moved / "runs" / "my_sweep")],
    capture_output=True,
    text=True,
    cwd=ROOT,
  )
  assert r.stdout.split() == ["sine", "True"], r.stdout + r.stderr


def test_every_python_example_of_the_readme_and_the_docs_is_run_by_a_test():
  """An example added to a page without a test here would go stale: each is one of the above."""
  assert len(EXAMPLES) == 2 and len(DOC_EXAMPLES) == 2  # README: linen, NNX; docs: HF, own task
