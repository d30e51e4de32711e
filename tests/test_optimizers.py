"""Any optimizer on the grid: optax aliases, a user's factory and the paper's NAG in one program."""

import pathlib
import textwrap

import chex
import jax
import ml_collections
import numpy as np
import optax
import pytest

from nesterov_jax import cli
from nesterov_jax.engine import grid as grid_lib
from nesterov_jax.engine import programs, results, train
from nesterov_jax.engine.config import ConfigError, load_config
from nesterov_jax.engine.tasks import make_task

ROOT = pathlib.Path(__file__).parents[1]
SMOKE = f"{ROOT / 'configs' / 'teacher_mlp.py'}:smoke"

# A user's factory in a module beside a user's config (outside the package). It counts its
# calls: it is called when a program is traced, never when one runs.
FACTORY = '''
import optax

CALLS = []


def clipped_momentum(hparams, clip=1.0):
  CALLS.append(1)
  return optax.chain(optax.clip_by_global_norm(clip),
                     optax.sgd(hparams["learning_rate"], momentum=hparams["mu_max"]))
'''
CONFIG = f'''
import sys
sys.path.insert(0, {str(ROOT / "configs")!r})
import teacher_mlp


def get_config():
  config = teacher_mlp.get_config("smoke")
  config.grid.optimizers = ("nag", "adam", "my_opt:clipped_momentum")
  config.grid.mu_max = (0.0, 0.9)
  config.grid.learning_rates = (0.03, 0.003)
  config.optimizer_args = dict(adam=dict(b2=0.99), **{{"my_opt:clipped_momentum": dict(clip=0.5)}})
  return config
'''


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
  """nag, adam and a user factory in one grid, run by the command from a user's folder."""
  folder = tmp_path_factory.mktemp("user")
  (folder / "my_opt.py").write_text(FACTORY)
  (folder / "my_sweep.py").write_text(CONFIG)
  workdir = folder / "run"
  assert cli.main(["run", str(folder / "my_sweep.py"), "--workdir", str(workdir)]) == 0
  import json

  return folder, workdir, json.loads((workdir / "results.json").read_text())


def test_a_grid_mixes_nag_adam_and_a_user_factory(mixed):
  _, workdir, records = mixed
  settings = [(r["optimizer"], r["mu_max"], r["learning_rate"]) for r in records]
  # NAG and the factory (which has μ) run per μ_max; Adam (no momentum argument) once per ε.
  assert settings == [
    ("nag", 0.0, 0.03),
    ("nag", 0.0, 0.003),
    ("nag", 0.9, 0.03),
    ("nag", 0.9, 0.003),
    ("adam", 0.0, 0.03),
    ("adam", 0.0, 0.003),
    ("my_opt:clipped_momentum", 0.0, 0.03),
    ("my_opt:clipped_momentum", 0.0, 0.003),
    ("my_opt:clipped_momentum", 0.9, 0.03),
    ("my_opt:clipped_momentum", 0.9, 0.003),
  ]
  initial = results.load_metrics(workdir)[0]["train_error"]
  assert all(
    not r["diverged"] and r["final_train_error"] < 0.8 * e0 for r, e0 in zip(records, initial)
  )
  adam = next(r for r in records if r["optimizer"] == "adam")
  assert adam["optimizer_args"]["b2"] == 0.99 and adam["optimizer_args"]["b1"] == 0.9
  assert adam["optimizer_args"]["eps"] == 1e-8
  assert next(r for r in records if r["optimizer"].startswith("my_opt"))["optimizer_args"] == {
    "clip": 0.5
  }
  summary = (workdir / "summary.md").read_text()
  assert summary.count("| adam |") == 3  # best row + two points
  # Adam takes no μ: its μ column is "—"; NAG at μ 0 and the factory at μ 0 (it has μ) keep "0".
  assert summary.count("| adam | — |") == 3 and "| adam | 0 |" not in summary
  assert "| nag | 0 |" in summary and "| my_opt:clipped_momentum | 0 |" in summary


def test_the_best_of_each_optimizer_is_its_lowest_error_over_mu_and_learning_rate(mixed):
  """best_per_optimizer.png's lines: SGD (NAG at μ_max 0) apart from NAG, then the others,
  each at the (μ_max, ε) of its lowest final training error, found here by brute force."""
  from nesterov_jax.engine import report

  _, workdir, records = mixed
  best = report.best_of_each_optimizer(records)
  groups = {
    "sgd (paper)": [r for r in records if r["optimizer"] == "nag" and r["mu_max"] == 0],
    "nag": [r for r in records if r["optimizer"] == "nag" and r["mu_max"] > 0],
    "adam": [r for r in records if r["optimizer"] == "adam"],
    "my_opt:clipped_momentum": [r for r in records if r["optimizer"].startswith("my_opt")],
  }
  expected = [min(g, key=lambda r: r["final_train_error"]) for g in groups.values()]
  assert [(s["optimizer"], s["mu_max"], s["learning_rate"]) for s in best] == [
    (r["optimizer"], r["mu_max"], r["learning_rate"]) for r in expected
  ]
  assert (workdir / "best_per_optimizer.png").stat().st_size > 10_000


def _plain_loop(config, make_opt, lr, seed=0):
  """One grid point in a plain Python loop with optax: the engine's documented init and
  minibatch keys, errors at the final parameters."""
  task = make_task(config.task)
  opt = make_opt(lr)
  data_key = jax.random.fold_in(jax.random.key(seed), 1)
  with jax.default_matmul_precision(config.precision):
    params = task.init(jax.random.fold_in(jax.random.key(seed), 0), {"init_scale": 1.0})
    state = opt.init(params)
    grad = jax.jit(jax.grad(task.loss))
    for t in range(config.num_updates):
      g = grad(params, task.sample(task.data, jax.random.fold_in(data_key, t)))
      updates, state = opt.update(g, state, params)
      params = optax.apply_updates(params, updates)
    return float(task.evaluate(params, task.data)["train_error"])


def test_each_optimizer_on_the_grid_is_the_optimizer_run_alone(mixed):
  """Adam and the user's chain on the grid equal optax run in a plain loop (nothing of
  the engine's: a wrong b2, a μ_max not reaching the factory, or a mixed-up branch fails)."""
  folder, _, records = mixed
  config = load_config(str(folder / "my_sweep.py"))
  adam = next(r for r in records if r["optimizer"] == "adam" and r["learning_rate"] == 0.03)
  ref = _plain_loop(config, lambda lr: optax.adam(lr, b2=0.99), 0.03)
  np.testing.assert_allclose(adam["final_train_error"], ref, rtol=2e-4)
  assert abs(_plain_loop(config, lambda lr: optax.adam(lr), 0.03) - ref) > 1e-3 * ref  # b2 matters
  mine = next(
    r
    for r in records
    if r["optimizer"].startswith("my_opt") and r["mu_max"] == 0.9 and r["learning_rate"] == 0.03
  )
  ref = _plain_loop(
    config,
    lambda lr: optax.chain(optax.clip_by_global_norm(0.5), optax.sgd(lr, momentum=0.9)),
    0.03,
  )
  np.testing.assert_allclose(mine["final_train_error"], ref, rtol=2e-4)


def test_changing_values_never_recompiles(mixed):
  """One trace of the three-branch program serves any values of ε, μ_max and seeds."""
  folder, _, _ = mixed
  import my_opt  # on sys.path since the config was loaded (its folder)

  config = load_config(str(folder / "my_sweep.py"))
  task = make_task(config.task)
  points = grid_lib.points(config.grid)
  engine = programs.build(task, config, points, jit=False)
  chex.clear_trace_counter()
  chunk = jax.jit(chex.assert_max_traces(engine.chunk_at(0), n=1))  # a second trace fails here
  data = jax.device_put(task.data, engine.replicated)
  state = jax.jit(engine.init)(engine.hps)
  my_opt.CALLS.clear()
  state, _ = chunk(state, engine.hps, data, np.int32(0))
  traced = len(my_opt.CALLS)
  assert traced >= 1
  for scale in (0.5, 2.0):
    other = dict(
      points,
      learning_rate=points["learning_rate"] * scale,
      mu_max=points["mu_max"] * 0.5,
      seed=points["seed"] + 7,
    )
    hps = programs.build(task, config, other, jit=False).hps
    state, logs = chunk(state, hps, data, np.int32(50))
  assert len(my_opt.CALLS) == traced  # the user's factory was not called again either


def test_optax_sgd_takes_mu_max_as_its_momentum_and_a_grid_axis_sweeps_adams_b1(tmp_path):
  config = load_config(
    SMOKE,
    ["grid.optimizers=('sgd', 'adam')", "grid.mu_max=(0.0, 0.9)", "grid.learning_rates=(0.03,)"],
  )
  with config.unlocked():
    config.grid.b1 = (0.5, 0.9)
  records = train.run(config, tmp_path)
  keys = [(r["optimizer"], r["mu_max"], r["b1"]) for r in records]
  assert keys == [
    ("sgd", 0.0, 0.5),
    ("sgd", 0.0, 0.9),
    ("sgd", 0.9, 0.5),
    ("sgd", 0.9, 0.9),
    ("adam", 0.0, 0.5),
    ("adam", 0.0, 0.9),
  ]
  e = {k: r["final_train_error"] for k, r in zip(keys, records)}
  assert e[("sgd", 0.0, 0.5)] == e[("sgd", 0.0, 0.9)]  # b1 is not sgd's
  assert e[("sgd", 0.0, 0.5)] != e[("sgd", 0.9, 0.5)]  # μ_max is its momentum
  assert e[("adam", 0.0, 0.5)] != e[("adam", 0.0, 0.9)]  # b1 is adam's
  assert "b1" not in records[-1]["optimizer_args"] and records[-1]["optimizer_args"]["b2"] == 0.999


@pytest.mark.parametrize(
  "override, message",
  [
    ("optimizer_args.adam.b3=0.9", "optax.adam has no argument 'b3'"),
    ("optimizer_args.adam.learning_rate=0.1", "that argument is swept by the grid"),
    ("optimizer_args.adam.b2=(1, 2)", "must be a number, string, bool or None"),
  ],
)
def test_bad_optimizer_arguments_get_one_line(override, message, tmp_path, capsys):
  args = [
    "run",
    SMOKE,
    "--workdir",
    str(tmp_path),
    "--config.grid.optimizers=('adam',)",
    f"--config.{override}",
  ]
  assert cli.main(args) == 2
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and message in err, err


def test_a_factory_that_returns_no_transformation_is_named(tmp_path, monkeypatch):
  (tmp_path / "bad_opt.py").write_text("def make(hparams):\n  return 'adam'\n")
  monkeypatch.syspath_prepend(str(tmp_path))
  config = load_config(SMOKE, ["grid.optimizers=('bad_opt:make',)"])
  with pytest.raises(
    ConfigError, match="optimizer bad_opt:make: returned str, not an optax.GradientTransformation"
  ):
    train.run(config, tmp_path / "run")


def test_a_factory_without_momentum_runs_once_per_learning_rate(tmp_path, monkeypatch):
  (tmp_path / "plain_opt.py").write_text(
    textwrap.dedent("""
      import optax
      def make(hparams):
        return optax.sgd(hparams["learning_rate"])
      make.uses_momentum = False
  """)
  )
  monkeypatch.syspath_prepend(str(tmp_path))
  config = ml_collections.ConfigDict(load_config(SMOKE).to_dict())
  config.grid.optimizers = ("plain_opt:make",)
  assert [tuple(p) for p in grid_lib.settings(config.grid)] == [
    ("plain_opt:make", 0.0, lr) for lr in (0.1, 0.03, 0.01)
  ]


def test_a_user_module_is_the_one_next_to_the_config_that_names_it(tmp_path):
  """Two configs in two folders, each beside its own ``my_factory.py``: each run gets its own
  (a process that loaded the first must not hand its module to the second)."""
  from nesterov_jax.engine.config import load_object

  for name, lr in (("first", 0.1), ("second", 0.2)):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "my_factory.py").write_text(
      f"import optax\nLR = {lr}\ndef make(hparams):\n  return optax.sgd(LR)\n"
    )
    (folder / "config.py").write_text(
      f"import sys\nsys.path.insert(0, {str(ROOT / 'configs')!r})\n"
      "import teacher_mlp\ndef get_config():\n  return teacher_mlp.get_config('smoke')\n"
    )
    load_config(str(folder / "config.py"))
    assert load_object("grid.optimizers", "my_factory:make").__globals__["LR"] == lr


def test_a_factory_with_a_transformation_after_nag_is_refused_before_training(
  tmp_path, monkeypatch, capsys
):
  (tmp_path / "after.py").write_text(
    "import optax\nimport nesterov_jax as nj\n\ndef make(hp):\n"
    "  return optax.chain(nj.nag(hp['learning_rate'], 0.9), optax.scale(0.5))\n"
  )
  monkeypatch.syspath_prepend(str(tmp_path))
  workdir = tmp_path / "run"
  assert (
    cli.main(["run", SMOKE, "--workdir", str(workdir), "--config.grid.optimizers=('after:make',)"])
    == 2
  )
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "must be the last transformation of an optax chain" in err, err
  assert not (
    workdir / "metrics.jsonl"
  ).exists()  # refused when the program is traced, before any update


def test_a_schedule_free_optimizer_on_the_grid_is_measured_at_optaxs_evaluation_point(tmp_path):
  """optax.contrib.schedule_free_sgd trains at one sequence of iterates and is evaluated at
  another (optax's schedule_free_eval_params); the engine reports the latter."""
  config = load_config(
    SMOKE,
    [
      "grid.optimizers=('contrib.schedule_free_sgd',)",
      "grid.mu_max=(0.0,)",
      "grid.learning_rates=(0.1,)",
    ],
  )
  (record,) = train.run(config, tmp_path)
  task = make_task(config.task)
  opt = optax.contrib.schedule_free_sgd(0.1)
  data_key = jax.random.fold_in(jax.random.key(0), 1)
  params = task.init(jax.random.fold_in(jax.random.key(0), 0), {"init_scale": 1.0})
  state = opt.init(params)
  step = jax.jit(lambda p, s, t: _update(opt, task, p, s, jax.random.fold_in(data_key, t)))
  for t in range(config.num_updates):
    params, state = step(params, state, t)
  at_eval = float(
    task.evaluate(optax.contrib.schedule_free_eval_params(state, params), task.data)["train_error"]
  )
  at_training = float(task.evaluate(params, task.data)["train_error"])
  np.testing.assert_allclose(record["final_train_error"], at_eval, rtol=2e-4)
  assert (
    abs(at_eval - at_training) > 1e-3 * at_eval
  )  # the two points differ by far more than the tolerance


def _update(opt, task, params, state, key):
  g = jax.grad(task.loss)(params, task.sample(task.data, key))
  updates, state = opt.update(g, state, params)
  return optax.apply_updates(params, updates), state
