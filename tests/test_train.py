"""The sweep engine: isolation of grid points, sharding, multi-process, crash-safety, bad input."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from nesterov_jax import cli
from nesterov_jax.engine import results, train
from nesterov_jax.engine.config import ConfigError, load_config

ROOT = pathlib.Path(__file__).parents[1]
SMOKE = f"{ROOT / 'configs' / 'teacher_mlp.py'}:smoke"
RNN_SMOKE = f"{ROOT / 'configs' / 'rnn_addition.py'}:smoke"


def run_sweep(workdir, *overrides):
  config = load_config(SMOKE, overrides)
  train.prepare_workdir(workdir, config)
  return train.run(config, workdir)


def cli_subprocess(workdir, *args, devices=1, env_extra=None, **popen):
  env = {
    **os.environ,
    "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
    "JAX_PLATFORMS": "cpu",
    **(env_extra or {}),
  }
  command = [sys.executable, "-m", "nesterov_jax", "run", SMOKE, "--workdir", str(workdir), *args]
  return subprocess.Popen(
    command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen
  )


def finals(records, key="final_train_error"):
  return np.array([r[key] for r in records])


@pytest.fixture(scope="module")
def base(tmp_path_factory):
  """The smoke grid (15 points: SGD + CM/NAG × μ_max {0.9, 0.99}, × 3 learning rates)."""
  workdir = tmp_path_factory.mktemp("base")
  return workdir, run_sweep(workdir)


def test_records_have_the_documented_keys_and_every_point_trained(base):
  workdir, records = base
  assert len(records) == 15
  initial = results.load_metrics(workdir)[0]["train_error"]
  for r, start in zip(records, initial):
    assert set(r) >= {
      "task",
      "optimizer",
      "mu_max",
      "learning_rate",
      "seed",
      "final_train_error",
      "diverged",
      "data",
      "provenance",
      "precision",
      "train_error_before_finetune",
    }
    assert r["optimizer"] in ("cm", "nag") and not r["diverged"]
    assert r["final_train_error"] < 0.9 * start  # it trained: 200 updates lower its error
  assert len(set(initial)) == 1  # one seed: every point starts from the same network
  assert (
    sum(r["mu_max"] == 0.0 for r in records) == 3
  )  # SGD once per learning rate, not per optimizer


def test_step_0_evaluates_each_initialization_once_and_gives_every_point_its_own(tmp_path):
  # 2 seeds × 2 init scales × 2 learning rates × NAG/CM: 4 distinct networks for 16 points.
  workdir = tmp_path / "init"
  records = run_sweep(
    workdir,
    "grid.seeds=(0, 1)",
    "grid.init_scale=(0.5, 2.0)",
    "grid.mu_max=(0.9,)",
    "grid.learning_rates=(0.1, 0.01)",
    "num_updates=50",
    "eval_every=0",
    "checkpoint_every=0",
    "schedule.finetune_steps=0",
  )
  from nesterov_jax.engine import programs
  from nesterov_jax.engine.tasks import make_task

  config = load_config(SMOKE)
  task = make_task(config.task)
  step0 = results.load_metrics(workdir)[0]
  assert step0["step"] == 0
  rows, of = programs.distinct_initializations(
    task, {k: np.array([r[k] for r in records]) for k in ("seed", "init_scale")}
  )
  assert len(rows) == 4 and len(of) == 16
  for r, error in zip(records, step0["train_error"]):  # each point's error is its own network's
    params = task.init(
      jax.random.fold_in(jax.random.key(r["seed"]), 0), {"init_scale": r["init_scale"]}
    )
    np.testing.assert_allclose(error, task.evaluate(params, task.data)["train_error"], rtol=1e-6)
  assert len({round(e, 6) for e in step0["train_error"]}) == 4


def test_grid_point_equals_the_same_config_trained_alone(base, tmp_path):
  _, records = base
  k = 10
  point = records[k]
  alone = run_sweep(
    tmp_path,
    f"grid.optimizers=('{point['optimizer']}',)",
    f"grid.mu_max=({point['mu_max']},)",
    f"grid.learning_rates=({point['learning_rate']},)",
  )
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
    (same,) = [
      q
      for q in records
      if (q["optimizer"], q["mu_max"], q["learning_rate"])
      == (r["optimizer"], r["mu_max"], r["learning_rate"])
    ]
    np.testing.assert_allclose(r["final_train_error"], same["final_train_error"], rtol=1e-5)


@pytest.mark.slow
def test_four_devices_give_the_same_results_as_one(base, tmp_path):
  _, records = base
  proc = cli_subprocess(tmp_path, devices=4)
  out, _ = proc.communicate(timeout=300)
  assert proc.returncode == 0, out
  sharded = json.loads((tmp_path / "results.json").read_text())
  assert sharded[0]["provenance"]["device"].startswith("4 x CPU")
  assert len(sharded) == 15  # 16 slots on 4 devices; the padding point is not reported
  np.testing.assert_allclose(finals(sharded), finals(records), rtol=1e-5)


@pytest.mark.slow
def test_two_processes_on_localhost_give_the_same_results(base, tmp_path):
  _, records = base
  port = 20000 + os.getpid() % 20000
  procs = [
    cli_subprocess(
      tmp_path,
      "--coordinator",
      f"127.0.0.1:{port}",
      "--num-processes",
      "2",
      "--process-id",
      str(i),
      devices=2,
    )
    for i in range(2)
  ]
  outs = [p.communicate(timeout=300)[0] for p in procs]
  assert [p.returncode for p in procs] == [0, 0], outs
  multi = json.loads((tmp_path / "results.json").read_text())
  device = multi[0]["provenance"]["device"]
  assert device.startswith("4 x CPU") and device.endswith("2 processes")
  np.testing.assert_allclose(finals(multi), finals(records), rtol=1e-5)


@pytest.mark.cpu_bitwise
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
  state = ocp.StandardCheckpointer().restore(
    (tmp_path / "wild" / "checkpoints" / "200" / "state").resolve()
  )
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(state))


@pytest.mark.cpu_bitwise
@pytest.mark.slow
def test_kill_minus_nine_then_rerun_equals_an_uninterrupted_run(tmp_path):
  longer = ["--config.num_updates=3000", "--config.checkpoint_every=100", "--config.eval_every=500"]
  uninterrupted = run_sweep(tmp_path / "whole", *(o.removeprefix("--config.") for o in longer))

  workdir = tmp_path / "killed"
  proc = cli_subprocess(workdir, *longer, start_new_session=True)
  deadline = time.time() + 240
  while (
    not any(p.name.isdigit() for p in (workdir / "checkpoints").glob("*"))
    and time.time() < deadline
  ):
    time.sleep(0.2)
  os.killpg(proc.pid, signal.SIGKILL)
  proc.wait()
  assert not (workdir / "results.json").exists(), "the run finished before it could be killed"

  rerun = cli_subprocess(workdir, *longer)
  out, _ = rerun.communicate(timeout=300)
  assert rerun.returncode == 0, out
  assert "resuming" in out
  resumed = json.loads((workdir / "results.json").read_text())
  # Equal up to the CPU backend's own run-to-run noise: with more than one intra-op thread one
  # compiled module can return results ~1e-9 apart across calls (jax-ml/jax#39741), which 3000
  # updates grew to 1.5e-8 once in seven runs under load. A resume that loses or repeats
  # minibatches, or restarts the momentum schedule, moves them by orders of magnitude more.
  np.testing.assert_allclose(finals(resumed), finals(uninterrupted), rtol=1e-6, atol=1e-7)
  steps = [
    json.loads(line)["step"] for line in (workdir / "metrics.jsonl").read_text().splitlines()
  ]
  assert steps == sorted(set(steps)) and steps[-1] == 3000


# Every bad value a user can type, each caught before anything compiles: (override, what the
# one line must say, naming the field). The RNN rows use the RNN smoke config.
BAD_INPUTS = [
  ("grid.mu_max=(0.9, 1.0)", "grid.mu_max = 1.0: must be a finite number ≥ 0 and < 1"),
  ("grid.mu_max=(0.9, 'x')", "grid.mu_max = 'x': must be a finite number"),
  ("grid.learning_rates=(0.1, 0.0)", "grid.learning_rates = 0.0: must be a finite number > 0"),
  ("grid.learning_rates=abc", "grid.learning_rates = 'abc': must be a finite number"),
  ("grid.learning_rates=nan", "grid.learning_rates = 'nan': must be a finite number"),
  ("grid.learning_rates=inf", "grid.learning_rates = 'inf': must be a finite number"),
  ("grid.learning_rates=1e999", "grid.learning_rates = inf: must be a finite number"),
  ("grid.seeds=1.5", "grid.seeds = 1.5: must be an integer"),
  ("grid.seeds=(-1,)", "grid.seeds = -1: must be an integer ≥ 0 and ≤ 2,147,483,647"),
  ("grid.seeds=True", "grid.seeds = True: must be an integer"),
  ("grid.init_scale=(1.0, 'big')", "grid.init_scale = 'big': must be a finite number"),
  ("task.name=mnist_from_mars", "unknown task 'mnist_from_mars'"),
  ("task.name=rnn", "task rnn needs config field task.problem, which this config lacks"),
  (
    "grid.learning_rates=1e39",
    "grid.learning_rates = 1e+39: must be a finite number > 0 and ≤ 3.40282e+38",
  ),
  (
    "grid.optimizers=('nag', 'adamm')",
    "unknown optimizer 'adamm': one of cm, hf, nag, an optax alias",
  ),
  ("grid.optimizers=('nag', 'hf')", "a grid with 'hf' holds no other optimizer"),
  (
    "grid.optimizers=('no_such_module:make',)",
    "no module 'no_such_module' next to the config file or on sys.path",
  ),
  ("grid.optimizers=('optax:no_such_factory',)", "module 'optax'"),
  ("optimizer_args.adam.b2=0.9", "optimizer_args.adam: no optimizer 'adam' in the grid"),
  ("grid.seeds=()", "the grid is empty"),
  ("grid.points=(('nag', 0.9),)", "grid.points holds (optimizer, mu_max, learning_rate) triples"),
  (
    "grid.points=(('nag', 0.9, -1.0),)",
    "grid.points (learning_rate) = -1.0: must be a finite number > 0",
  ),
  (
    "grid.points=(('adam', 0.9, 0.1),)",
    "grid.points: adam has no momentum argument; its points take μ_max 0",
  ),
  ("grid.warp=1", "unknown config field 'grid.warp'"),
  ("precision=tf16", "precision = 'tf16': must be one of"),
  ("selection=best", "selection = 'best': must be one of"),
  ("chunk_size=30", "must be a positive multiple of chunk_size (30)"),
  ("num_updates=-20", "num_updates = -20: must be an integer ≥ 1"),
  ("eval_every=-20", "eval_every = -20: must be an integer ≥ 0"),
  ("schedule.period=0", "schedule.period = 0"),
  (
    "schedule.finetune_momentum=1.5",
    "schedule.finetune_momentum = 1.5: must be a finite number ≥ 0 and < 1",
  ),
  ("task.batch_size=0", "task.batch_size = 0: must be an integer ≥ 1"),
  ("task.num_train=-5", "task.num_train = -5: must be an integer ≥ 1"),
  ("task.hidden=2.5", "task.hidden"),
  ("task.data_seed=-1", "task.data_seed = -1: must be an integer ≥ 0"),
  ("RNN task.length=0", "task.length = 0: must be an integer ≥ 1"),
  ("RNN task.length=5", "task.length = 5: addition needs T ≥ 10"),
  ("RNN task.problem=division", "task.problem = 'division': unknown RNN problem"),
  ("RNN task.unroll=0", "task.unroll = 0: must be an integer ≥ 1"),
]


@pytest.mark.parametrize("override, message", BAD_INPUTS)
def test_bad_input_gets_one_clear_line_before_anything_compiles(
  override, message, tmp_path, capsys
):
  config = SMOKE
  if override.startswith("RNN "):
    config, override = RNN_SMOKE, override.removeprefix("RNN ")
  assert cli.main(["run", config, "--workdir", str(tmp_path), f"--config.{override}"]) == 2
  err = capsys.readouterr().err
  assert err.startswith("nesterov-jax: error: ") and err.count("\n") == 1, err
  assert message in err and "Traceback" not in err, err
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
  with pytest.raises(
    Exception, match="grid axis 'dropout' is not a hyperparameter of task 'teacher_mlp'"
  ):
    train.run(config, tmp_path)


def test_report_writes_tables_and_plots_and_reports_a_missing_run(base, tmp_path, capsys):
  workdir, _ = base
  assert cli.main(["report", str(workdir)]) == 0
  for name in ("summary.md", "error_curves.png", "lr_mu_heatmap.png"):
    assert (workdir / name).stat().st_size > 0
  assert "Made by `" in (workdir / "summary.md").read_text()
  assert cli.main(["report", str(tmp_path)]) == 2
  assert "results.json not found" in capsys.readouterr().err


def _corrupt(step_dir: pathlib.Path) -> None:
  for f in (step_dir / "state").rglob("*"):
    if f.is_file() and f.stat().st_size > 0:
      f.write_bytes(b"\x00garbage" * 3)


def test_a_corrupted_newest_checkpoint_resumes_from_the_one_before(base, tmp_path, capfd):
  workdir, records = base
  copy = tmp_path / "copy"
  shutil.copytree(workdir, copy)
  assert sorted(int(p.name) for p in (copy / "checkpoints").iterdir() if p.name.isdigit()) == [
    100,
    200,
  ]
  _corrupt(copy / "checkpoints" / "200")
  resumed = run_sweep(copy)
  err = capfd.readouterr().err
  assert "checkpoint at update 200 is unreadable" in err and "resuming from update 100" in err
  assert finals(resumed).tolist() == finals(records).tolist()  # bitwise on CPU
  steps = [json.loads(line)["step"] for line in (copy / "metrics.jsonl").read_text().splitlines()]
  assert steps == [0, 50, 100, 150, 200]
  # With every checkpoint unreadable the run stops and says how to start over.
  for step in (100, 200):
    _corrupt(copy / "checkpoints" / str(step))
  with pytest.raises(
    ConfigError, match="no readable checkpoint in .*delete .* to start the run over"
  ):
    run_sweep(copy)


def _every_file_parses(workdir: pathlib.Path) -> list[str]:
  """Checks every file a run wrote (checkpoints aside) is whole; returns their names."""
  from PIL import Image

  names = []
  for f in sorted(workdir.iterdir()):
    # .lock, and the hidden temporary of a write the kill interrupted (never the file itself)
    if not f.is_file() or f.name == ".lock" or (f.name.startswith(".") and f.name.endswith(".tmp")):
      continue
    names.append(f.name)
    if f.suffix == ".json":
      json.loads(f.read_text())
    elif f.suffix == ".jsonl":
      for line in f.read_text().splitlines():
        json.loads(line)
    elif f.suffix == ".png":
      with Image.open(f) as image:
        image.verify()
    elif f.suffix == ".md":
      assert f.read_text().endswith("\n"), f.name
  return names


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_every_file_whole(tmp_path):
  """A run killed at any moment (training, checkpointing, or writing the report) leaves
  each of its files either absent, old or new, never torn."""
  rng = np.random.default_rng(0)
  start = time.perf_counter()
  whole = cli_subprocess(tmp_path / "whole")
  assert whole.wait(timeout=300) == 0
  duration = time.perf_counter() - start
  seen = set()
  for i, fraction in enumerate(sorted(rng.uniform(0.5, 1.0, size=5))):
    workdir = tmp_path / f"killed{i}"
    proc = cli_subprocess(workdir, start_new_session=True)
    time.sleep(fraction * duration)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    if workdir.exists():
      seen.update(_every_file_parses(workdir))
  assert {"config.json", "metrics.jsonl"} <= seen
  assert set(_every_file_parses(tmp_path / "whole")) >= {
    "results.json",
    "summary.md",
    "error_curves.png",
  }
  # The report alone, rewriting every table and plot of a finished run, killed mid-way.
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  report = [sys.executable, "-m", "nesterov_jax", "report", str(tmp_path / "whole")]
  start = time.perf_counter()
  subprocess.run(report, env=env, check=True, capture_output=True, timeout=300)
  duration = time.perf_counter() - start
  for fraction in rng.uniform(0.6, 1.0, size=3):
    proc = subprocess.Popen(report, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(fraction * duration)
    proc.kill()
    proc.wait()
    _every_file_parses(tmp_path / "whole")


def _paper_reference(config, optimizer: str, mu_max: float, lr: float, seed: int = 0) -> dict:
  """One grid point replayed in a plain Python loop, written from the paper's formulas, not
  from the engine or our optimizers: Eq. 5 with its tail, and
      CM:  v ← μ_t v − ε ∇f(θ),           NAG: v ← μ_t v − ε ∇f(θ + μ_t v);   θ ← θ + v,
  on the engine's documented minibatch keys (batch t from fold_in(fold_in(key(seed), 1), t))."""
  from nesterov_jax.engine.tasks import make_task

  task = make_task(config.task)
  s, n = config.schedule, config.num_updates

  def mu(t):
    if t >= n - s.finetune_steps:
      return min(s.finetune_momentum, mu_max)
    return min(1.0 - 2.0 ** (-1.0 - np.log2(np.floor(t / s.period) + 1.0)), mu_max)

  grad = jax.jit(jax.grad(task.loss))
  data_key = jax.random.fold_in(jax.random.key(seed), 1)
  errors = {}
  with jax.default_matmul_precision(config.precision):
    theta = task.init(jax.random.fold_in(jax.random.key(seed), 0), {"init_scale": 1.0})
    v = jax.tree.map(np.zeros_like, theta)
    for t in range(n):
      if t == n - s.finetune_steps:
        errors["before_tail"] = float(task.evaluate(theta, task.data)["train_error"])
      batch = task.sample(task.data, jax.random.fold_in(data_key, t))
      m = np.float32(mu(t))
      at = jax.tree.map(lambda p, u: p + m * u, theta, v) if optimizer == "nag" else theta
      v = jax.tree.map(lambda u, g: m * u - np.float32(lr) * g, v, grad(at, batch))
      theta = jax.tree.map(lambda p, u: p + u, theta, v)
    errors["final"] = float(task.evaluate(theta, task.data)["train_error"])
  return errors


def test_engine_agrees_with_a_plain_loop_written_from_the_paper(base):
  """The engine against an independent reference: a swapped CM/NAG flag, errors measured at
  the look-ahead φ instead of θ, or a shifted schedule would each break this."""
  _, records = base
  config = load_config(SMOKE)
  refs = {}
  for optimizer in ("cm", "nag"):
    (r,) = [
      r
      for r in records
      if (r["optimizer"], r["mu_max"], r["learning_rate"]) == (optimizer, 0.99, 0.03)
    ]
    refs[optimizer] = ref = _paper_reference(config, optimizer, 0.99, 0.03)
    np.testing.assert_allclose(r["final_train_error"], ref["final"], rtol=2e-4)
    np.testing.assert_allclose(r["train_error_before_finetune"], ref["before_tail"], rtol=2e-4)
  assert (
    abs(refs["cm"]["final"] - refs["nag"]["final"]) > 1e-2 * refs["cm"]["final"]
  )  # CM ≠ NAG here


def test_merge_joins_a_split_grid_and_more_seeds_into_one_report(base, tmp_path, capsys):
  workdir, records = base
  low = run_sweep(tmp_path / "sgd", "grid.mu_max=(0.0,)")
  high = run_sweep(tmp_path / "momentum", "grid.mu_max=(0.9, 0.99)")
  assert (
    cli.main(["merge", str(tmp_path / "split"), str(tmp_path / "sgd"), str(tmp_path / "momentum")])
    == 0
  )
  merged, metrics = results.load_run(tmp_path / "split")
  assert merged == low + high and len(merged) == len(records)
  # A split grid is the whole grid: the same best ε per setting, the same errors.
  assert [
    (s["optimizer"], s["mu_max"], s["learning_rate"]) for s in results.select_best(merged)
  ] == [(s["optimizer"], s["mu_max"], s["learning_rate"]) for s in results.select_best(records)]
  whole = {
    (r["optimizer"], r["mu_max"], r["learning_rate"]): r["final_train_error"] for r in records
  }
  for r, last in zip(merged, metrics[-1]["train_error"]):
    np.testing.assert_allclose(
      whole[(r["optimizer"], r["mu_max"], r["learning_rate"])], r["final_train_error"], rtol=1e-5
    )
    assert last == r["final_train_error"]  # metrics' columns follow the records
  summary = (tmp_path / "split" / "summary.md").read_text()
  assert "Merged from 2 runs" in summary and summary.count("Made by `") == 2
  # A second seed run later: each setting's summary is the mean over both seeds.
  seed1 = run_sweep(tmp_path / "seed1", "grid.seeds=(1,)")
  assert cli.main(["merge", str(tmp_path / "seeds"), str(workdir), str(tmp_path / "seed1")]) == 0
  best = results.select_best(results.load_run(tmp_path / "seeds")[0])
  assert {s["seeds"] for s in best} == {2}
  s = best[0]
  pair = [
    r["final_train_error"]
    for r in records + seed1
    if (r["optimizer"], r["mu_max"], r["learning_rate"])
    == (s["optimizer"], s["mu_max"], s["learning_rate"])
  ]
  np.testing.assert_allclose(s["final_train_error"], np.mean(pair))
  run_sweep(tmp_path / "other", "num_updates=100", "grid.seeds=(2,)")
  capsys.readouterr()
  # Overlapping grids, or runs of different protocols, are refused in one line.
  for dirs, message in (
    ([workdir, workdir], "share a grid point"),
    ([workdir, tmp_path / "other"], "not the same protocol"),
  ):
    assert cli.main(["merge", str(tmp_path / "bad"), *map(str, dirs)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_users_task_declares_its_fields_and_gets_the_same_one_line_checks(monkeypatch):
  """The engine checks no field of the paper's by name: a task's builder declares its own
  (``fields``, ``how_fields``), so a user's task gets the checks the RNN's get."""
  import ml_collections

  from nesterov_jax.engine import results, tasks

  def my_task(config):
    raise AssertionError("not built: the checks come first")

  my_task.fields = {"depth": "positive_int", "mode": "string"}
  my_task.how_fields = ("mode",)
  monkeypatch.setitem(tasks.TASKS, "my_task", my_task)
  check = lambda **f: tasks.check_task_fields(ml_collections.ConfigDict({"name": "my_task", **f}))
  check(depth=3, mode="fast", other=-1.5)  # an undeclared field is the builder's to check
  with pytest.raises(ConfigError, match="task.depth = 0: must be an integer ≥ 1"):
    check(depth=0)
  with pytest.raises(ConfigError, match="task.mode"):
    check(mode=3)
  with pytest.raises(ConfigError, match="task.data_seed = -1"):  # the common fields still apply
    check(data_seed=-1)
  assert tasks.how_fields("my_task") == ("eval_batch_size", "mode")
  assert results._how_fields("no.such:task") == ("eval_batch_size",)  # not importable: common
  my_task.fields = {"depth": "integer"}
  with pytest.raises(ConfigError, match="unknown kinds"):
    check(depth=3)
