"""The sweep engine: isolation of grid points, sharding, multi-process, crash-safety, bad input."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from nesterov_jax import cli, results, sweep
from nesterov_jax.config import load_config

ROOT = pathlib.Path(__file__).parents[1]
SMOKE = f"{ROOT / 'configs' / 'teacher_mlp.py'}:smoke"


def run_sweep(workdir, *overrides):
  config = load_config(SMOKE, overrides)
  cli.prepare_workdir(workdir, config)
  return sweep.run(config, workdir)


def cli_subprocess(workdir, *args, devices=1, env_extra=None, **popen):
  env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
         "JAX_PLATFORMS": "cpu", **(env_extra or {})}
  command = [sys.executable, "-m", "nesterov_jax", "run", SMOKE, "--workdir", str(workdir), *args]
  return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **popen)


def finals(records, key="final_train_error"):
  return np.array([r[key] for r in records])


@pytest.fixture(scope="module")
def base(tmp_path_factory):
  """The smoke grid (15 points: SGD + CM/NAG × μ_max {0.9, 0.99}, × 3 learning rates)."""
  workdir = tmp_path_factory.mktemp("base")
  return workdir, run_sweep(workdir)


def test_records_have_the_documented_keys_and_every_point_trained(base):
  _, records = base
  assert len(records) == 15
  for r in records:
    assert set(r) >= {"task", "optimizer", "mu_max", "learning_rate", "seed", "final_train_error",
                      "diverged", "data", "provenance", "precision", "train_error_before_finetune"}
    assert r["optimizer"] in ("cm", "nag") and not r["diverged"]
  assert sum(r["mu_max"] == 0.0 for r in records) == 3  # SGD once per learning rate, not per optimizer


def test_grid_point_equals_the_same_config_trained_alone(base, tmp_path):
  _, records = base
  k = 10
  point = records[k]
  alone = run_sweep(tmp_path, f"grid.optimizers=('{point['optimizer']}',)", f"grid.mu_max=({point['mu_max']},)",
                    f"grid.learning_rates=({point['learning_rate']},)")
  assert len(alone) == 1
  np.testing.assert_allclose(alone[0]["final_train_error"], point["final_train_error"], rtol=1e-5)
  np.testing.assert_allclose(alone[0]["final_test_error"], point["final_test_error"], rtol=1e-5)


def test_points_give_each_setting_its_own_learning_rate_and_equal_the_product_grid(base, tmp_path):
  _, records = base
  chosen = {("sgd", 0.0): 0.03, ("cm", 0.9): 0.1, ("nag", 0.99): 0.01}
  points = tuple((("cm" if opt == "sgd" else opt), mu, lr) for (opt, mu), lr in chosen.items())
  picked = run_sweep(tmp_path, f"grid.points={points!r}")
  assert [(r["optimizer"], r["mu_max"], r["learning_rate"]) for r in picked] == list(points)
  for r in picked:
    (same,) = [q for q in records if (q["optimizer"], q["mu_max"], q["learning_rate"]) ==
               (r["optimizer"], r["mu_max"], r["learning_rate"])]
    np.testing.assert_allclose(r["final_train_error"], same["final_train_error"], rtol=1e-5)


def test_four_devices_give_the_same_results_as_one(base, tmp_path):
  _, records = base
  proc = cli_subprocess(tmp_path, devices=4)
  out, _ = proc.communicate(timeout=300)
  assert proc.returncode == 0, out
  sharded = json.loads((tmp_path / "results.json").read_text())
  assert sharded[0]["provenance"]["device"].startswith("4 x CPU")
  assert len(sharded) == 15  # 16 slots on 4 devices; the padding point is not reported
  np.testing.assert_allclose(finals(sharded), finals(records), rtol=1e-5)


def test_two_processes_on_localhost_give_the_same_results(base, tmp_path):
  _, records = base
  port = 20000 + os.getpid() % 20000
  procs = [cli_subprocess(tmp_path, "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2",
                          "--process-id", str(i), devices=2) for i in range(2)]
  outs = [p.communicate(timeout=300)[0] for p in procs]
  assert [p.returncode for p in procs] == [0, 0], outs
  multi = json.loads((tmp_path / "results.json").read_text())
  device = multi[0]["provenance"]["device"]
  assert device.startswith("4 x CPU") and device.endswith("2 processes")
  np.testing.assert_allclose(finals(multi), finals(records), rtol=1e-5)


def test_a_diverging_config_leaves_every_other_config_bitwise_unchanged(tmp_path):
  grid = ["grid.mu_max=(0.9,)", "grid.optimizers=('cm', 'nag')"]
  calm = run_sweep(tmp_path / "calm", *grid, "grid.learning_rates=(0.01, 0.03, 0.1)")
  wild = run_sweep(tmp_path / "wild", *grid, "grid.learning_rates=(0.01, 0.03, 1000.0)")
  for a, b in zip(calm, wild):
    if b["learning_rate"] == 1000.0:
      assert b["diverged"] and 0 <= b["diverged_at"] < b["num_updates"]
    else:
      assert not b["diverged"]
      assert a["final_train_error"] == b["final_train_error"]
      assert a["final_test_error"] == b["final_test_error"]
  # The diverged points are frozen at their last finite state.
  state = ocp.StandardCheckpointer().restore((tmp_path / "wild" / "checkpoints" / "200" / "state").resolve())
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(state))


def test_kill_minus_nine_then_rerun_equals_an_uninterrupted_run(tmp_path):
  longer = ["--config.num_updates=3000", "--config.checkpoint_every=100", "--config.eval_every=500"]
  uninterrupted = run_sweep(tmp_path / "whole", *(o.removeprefix("--config.") for o in longer))

  workdir = tmp_path / "killed"
  proc = cli_subprocess(workdir, *longer, start_new_session=True)
  deadline = time.time() + 240
  while not any(p.name.isdigit() for p in (workdir / "checkpoints").glob("*")) and time.time() < deadline:
    time.sleep(0.2)
  os.killpg(proc.pid, signal.SIGKILL)
  proc.wait()
  assert not (workdir / "results.json").exists(), "the run finished before it could be killed"

  rerun = cli_subprocess(workdir, *longer)
  out, _ = rerun.communicate(timeout=300)
  assert rerun.returncode == 0, out
  assert "resuming" in out
  resumed = json.loads((workdir / "results.json").read_text())
  assert finals(resumed).tolist() == finals(uninterrupted).tolist()  # bitwise on CPU
  steps = [json.loads(line)["step"] for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  assert steps == sorted(set(steps)) and steps[-1] == 3000


@pytest.mark.parametrize("override, message", [
    ("grid.mu_max=(0.9, 1.0)", "mu_max must lie in [0, 1); got 1.0"),
    ("grid.learning_rates=(0.1, 0.0)", "learning rates must be > 0; got 0.0"),
    ("task.name=mnist_from_mars", "unknown task 'mnist_from_mars'"),
    ("grid.optimizers=('nag', 'adam')", "unknown optimizer 'adam'"),
    ("grid.seeds=()", "the grid is empty"),
    ("grid.points=(('nag', 0.9),)", "grid.points holds (optimizer, mu_max, learning_rate) triples"),
    ("grid.points=(('nag', 0.9, -1.0),)", "learning rates must be > 0; got -1.0"),
    ("grid.points=(('adam', 0.9, 0.1),)", "unknown optimizer 'adam'"),
    ("grid.warp=1", "unknown config field 'grid.warp'"),
    ("precision=tf16", "precision must be one of"),
    ("chunk_size=30", "must be a positive multiple of chunk_size (30)"),
])
def test_bad_input_gets_one_clear_line_before_anything_compiles(override, message, tmp_path, capsys):
  assert cli.main(["run", SMOKE, "--workdir", str(tmp_path), f"--config.{override}"]) == 2
  err = capsys.readouterr().err
  assert message in err and err.count("\n") == 1
  assert not (tmp_path / "checkpoints").exists()


def test_a_workdir_or_checkpoint_of_another_config_is_refused(base, tmp_path, capsys):
  workdir, _ = base
  assert cli.main(["run", SMOKE, "--workdir", str(workdir), "--config.task.data_seed=1"]) == 2
  assert "holds a different run (fields that differ: task)" in capsys.readouterr().err
  (tmp_path / "checkpoints").symlink_to(workdir / "checkpoints")
  with pytest.raises(Exception, match="written by a different config"):
    run_sweep(tmp_path, "task.data_seed=1")


def test_a_grid_axis_the_task_does_not_have_is_refused(tmp_path):
  config = load_config(SMOKE)
  with config.unlocked():
    config.grid.dropout = (0.1,)
  with pytest.raises(Exception, match="grid axis 'dropout' is not a hyperparameter of task 'teacher_mlp'"):
    sweep.run(config, tmp_path)


def test_best_learning_rate_is_the_lowest_mean_final_error_among_runs_that_did_not_diverge():
  def rec(lr, seed, err, diverged=False):
    return {"task": "t", "optimizer": "nag", "mu_max": 0.9, "learning_rate": lr, "seed": seed,
            "final_train_error": err, "diverged": diverged, "diverged_at": -1, "num_updates": 1,
            "precision": "highest", "data": "", "provenance": {}}
  records = [rec(0.1, 0, 0.5), rec(0.1, 1, 0.7), rec(0.01, 0, 0.4), rec(0.01, 1, 0.9),
             rec(1.0, 0, 0.01, diverged=True), rec(1.0, 1, 0.01)]
  (best,) = results.select_best(records)
  assert best["learning_rate"] == 0.1 and best["final_train_error"] == pytest.approx(0.6)
  assert best["final_train_error_std"] == pytest.approx(0.1) and best["seeds"] == 2


def test_report_writes_tables_and_plots_and_reports_a_missing_run(base, tmp_path, capsys):
  workdir, _ = base
  assert cli.main(["report", str(workdir)]) == 0
  for name in ("summary.md", "error_curves.png", "lr_mu_heatmap.png"):
    assert (workdir / name).stat().st_size > 0
  assert "Made by `" in (workdir / "summary.md").read_text()
  assert cli.main(["report", str(tmp_path)]) == 2
  assert "results.json not found" in capsys.readouterr().err
