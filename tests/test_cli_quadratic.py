"""The command line and the quadratic experiment: outputs, provenance, and one-line errors."""

import json
import pathlib

import pytest

from nesterov_jax import cli

CONFIG = str(pathlib.Path(__file__).parents[1] / "configs" / "quadratic.py")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("quadratic")
  assert cli.main(["run", f"{CONFIG}:smoke", "--workdir", str(workdir)]) == 0
  return workdir


def test_quadratic_experiment_writes_figures_table_and_provenance(smoke_run):
  for name in (
    "oblong.png",
    "effective_momentum.png",
    "ill_conditioned.png",
    "quadratic.md",
    "results.json",
    "config.json",
  ):
    assert (smoke_run / name).stat().st_size > 0, name
  results = json.loads((smoke_run / "results.json").read_text())
  assert set(results["provenance"]) >= {"command", "commit", "device", "wall_time_s"}
  assert "Made by `" in (smoke_run / "quadratic.md").read_text()
  # The paper's figure: across the narrow valley CM oscillates, NAG hardly moves.
  oblong = results["oblong"]
  assert oblong["nag"]["mean_abs_cross_valley"] < 0.1 * oblong["cm"]["mean_abs_cross_valley"]


def test_rerun_in_same_workdir_is_accepted(smoke_run):
  assert cli.main(["run", f"{CONFIG}:smoke", "--workdir", str(smoke_run)]) == 0


@pytest.mark.parametrize(
  "args, message",
  [
    (["--config.oblong.nope=1"], "unknown config field 'oblong.nope': oblong has no field 'nope'"),
    (["--config.oblong.momentum=1.0"], "every momentum must lie in [0, 1)"),
    (["--config.ill.learning_rate=-0.1"], "learning rates must be > 0"),
    (["--config.experiment=nonsense"], "unknown experiment 'nonsense'"),
    (["--config.ill.dim=abc"], "config field 'ill.dim': cannot set 'abc'"),
  ],
)
def test_bad_overrides_give_one_clear_line(args, message, tmp_path, capsys):
  assert cli.main(["run", f"{CONFIG}:smoke", "--workdir", str(tmp_path), *args]) == 2
  err = capsys.readouterr().err
  assert message in err and err.count("\n") == 1


def test_missing_config_and_bad_preset_and_other_runs_workdir(smoke_run, tmp_path, capsys):
  assert cli.main(["run", str(tmp_path / "missing.py")]) == 2
  assert "config file not found" in capsys.readouterr().err
  assert cli.main(["run", f"{CONFIG}:huge", "--workdir", str(tmp_path)]) == 2
  assert "preset 'huge' not available" in capsys.readouterr().err
  assert cli.main(["run", f"{CONFIG}:smoke", "--workdir", str(smoke_run), "--config.seed=3"]) == 2
  assert "holds a different run (fields that differ: seed)" in capsys.readouterr().err
