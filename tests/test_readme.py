"""The README is true: its API example runs and trains, and CI runs its test command."""

import pathlib
import re

import numpy as np

ROOT = pathlib.Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


EXAMPLES = re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_api_example_runs_and_lowers_the_loss():
  example = EXAMPLES[0]
  namespace = {}
  exec(compile(example, "README.md", "exec"), namespace)
  first_loss = float(np.mean(np.sum(np.asarray(namespace["y"]) ** 2, axis=1)))
  assert float(namespace["loss"]) < 0.05 * first_loss
  theta = namespace["theta"]
  assert theta.keys() == namespace["params"].keys()


def test_readme_hessian_free_example_runs_and_lowers_the_loss():
  (example,) = [e for e in EXAMPLES if "hessian_free" in e]
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
