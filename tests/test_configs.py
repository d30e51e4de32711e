"""Every config's presets: they build, and every one but smoke keeps the paper's protocol in
absolute terms (Eq. 5's period 250 with the last 1000 updates at μ = 0.9; the RNN warm-up of
1000 updates at μ = 0.9), shortening only the run."""

import pathlib

import jax
import numpy as np
import pytest

from nesterov_jax.engine import grid, tasks, train
from nesterov_jax.engine.config import ConfigError, grid_axes, load_config
from nesterov_jax.engine.optimizers import family

CONFIGS = pathlib.Path(__file__).parents[1] / "configs"
PRESETS = {
  "curves_ae": (
    "full",
    "pilot",
    "pilot_halving",
    "updates_50k",
    "modern_50k",
    "seeds",
    "modern_seeds",
    "updates_250k",
    "updates_750k",
    "smoke",
    "updates_50k_nag",
    "updates_50k_cm",
    "v1_pilot",
    "v1_updates_50k",
    "v1_modern_50k",
    "v1_seeds",
    "v1_modern_seeds",
    "v1_updates_250k",
  ),
  "mnist_ae": (
    "full",
    "pilot",
    "pilot_halving",
    "updates_30k",
    "modern_30k",
    "seeds",
    "modern_seeds",
    "smoke",
  ),
  "faces_ae": ("full", "pilot", "pilot_halving", "updates_15k", "modern_15k", "seeds", "smoke"),
  "curves_init_scale": ("full", "updates_50k", "v1_updates_50k", "smoke"),
  "rnn_addition": (
    "full",
    "pilot",
    "pilot_halving",
    "paper_length",
    "paper_length_nag",
    "paper_length_cm",
    "modern_paper_length",
    "seeds",
    "modern_seeds",
    "smoke",
  ),
  "rnn_multiplication": (
    "full",
    "pilot",
    "pilot_halving",
    "paper_length",
    "paper_length_nag",
    "paper_length_cm",
    "modern_paper_length",
    "seeds",
    "modern_seeds",
    "smoke",
  ),
  "rnn_memorization5": (
    "full",
    "pilot",
    "pilot_halving",
    "paper_length",
    "paper_length_nag",
    "paper_length_cm",
    "modern_paper_length",
    "seeds",
    "smoke",
  ),
  "rnn_memorization20": (
    "full",
    "pilot",
    "pilot_halving",
    "paper_length",
    "paper_length_nag",
    "paper_length_cm",
    "modern_paper_length",
    "seeds",
    "smoke",
  ),
  "hf_curves": ("full", "shortened", "smoke"),
  "hf_mnist": ("full", "shortened", "smoke"),
}
RNN_LENGTH = {
  "rnn_addition": 80,
  "rnn_multiplication": 80,
  "rnn_memorization5": 200,
  "rnn_memorization20": 80,
}


def sweeps(config):
  """The sweep configs inside an experiment config (an hf experiment holds three)."""
  return [config[k] for k in ("classic", "hybrid", "nag", "curves") if k in config] or [config]


@pytest.mark.parametrize(
  "name, preset", [(n, p) for n, presets in PRESETS.items() for p in presets]
)
def test_every_preset_builds_and_keeps_the_papers_schedule(name, preset):
  try:
    config = load_config(f"{CONFIGS / name}.py:{preset}")
  except ConfigError as e:  # a preset that needs its pilot's results says so
    assert "pilot" in str(e) or "first" in str(e), e
    return
  for run in sweeps(config):
    grid.validate(run)
    if preset == "smoke" or run.schedule.kind == "constant":  # HF's phases set their own ζ and ε
      continue
    if run.schedule.kind == "eq5":
      assert run.schedule.period == 250 and run.schedule.finetune_momentum == 0.9
      assert run.schedule.finetune_steps == 1000 and run.task.batch_size == 200
    else:
      assert run.schedule.warmup_steps == 1000 and run.schedule.warmup_momentum == 0.9
      assert run.task.batch_size == 100 and run.task.length == RNN_LENGTH[name]


def test_no_config_offers_a_preset_it_does_not_document():
  for path in CONFIGS.glob("*.py"):
    with pytest.raises(ConfigError, match="not available"):
      load_config(f"{path}:cpu")


# The data sizes a shrunk run trains and evaluates on. The presets' own sizes are built in
# test_every_presets_data_builds_at_its_own_size; training and evaluating on them (103,500
# faces three times over) would cost minutes a preset and test nothing more.
SHRUNK_SIZES = {
  "num_train": 400,
  "num_test": 100,
  "num_eval_sequences": 200,
  "eval_batch_size": 100,
}


def _shrunk(run):
  """``run`` cut to one grid point, one update, one evaluation, on data of SHRUNK_SIZES (its
  task otherwise unchanged)."""
  run = run.copy_and_resolve_references()
  with run.unlocked():
    for field, size in SHRUNK_SIZES.items():
      if field in run.task:
        run.task[field] = min(run.task[field], size)
    run.num_updates = run.chunk_size = run.eval_every = run.checkpoint_every = 1
    if "halving" in run:  # no rung fits in one update
      run.halving.eta = 0.0
    g = run.grid
    if g.get("points"):
      g.points = tuple(g.points[:1])
    else:
      g.optimizers, g.mu_max, g.learning_rates = (
        g.optimizers[:1],
        g.mu_max[-1:],
        g.learning_rates[:1],
      )
    for axis in ("seeds", *grid_axes(g)):
      g[axis] = tuple(g[axis][:1])
    if "hf" in g.optimizers:
      first = run.hf.phases[0]
      first.num_updates, first.max_cg_iterations = 1, 2
      run.hf.phases = (first,)
  return run


def _preset_sweeps(configs):
  """(name, preset, run) for every sweep of every preset of ``configs`` that loads on its own
  (a preset that needs its pilot's results first is checked above)."""
  for name, presets in configs.items():
    for preset in presets:
      try:
        config = load_config(f"{CONFIGS / name}.py:{preset}")
      except ConfigError:
        continue
      for run in sweeps(config):
        yield name, preset, run


def _distinct(items):
  """pytest params of (key, value, id) triples, once per key."""
  seen, out = set(), []
  for key, value, id_ in items:
    if key not in seen:
      seen.add(key)
      out.append(pytest.param(value, id=id_))
  return out


def _distinct_runs():
  """Every sweep of every preset, shrunk, once per distinct (task, HF or not): presets
  that differ only in their grid, length or HF phase numbers build the same data and compile
  the same program once shrunk."""
  # The sweeps of the configs whose presets are not the paper's protocol run through too.
  others = {
    "teacher_mlp": ("full", "scaled_schedule", "smoke"),
    "demo": ("paper_schedule", "smoke"),
  }
  shrunk = (
    (name, preset, _shrunk(run)) for name, preset, run in _preset_sweeps({**PRESETS, **others})
  )
  return _distinct(
    (
      run.task.to_json(sort_keys=True) + str("hf" in run.grid.optimizers),
      run,
      f"{name}:{preset}:{run.task.get('problem', run.task.name)}",
    )
    for name, preset, run in shrunk
  )


def _distinct_tasks():
  """Every preset's task section at its own size, once per distinct section."""
  return _distinct(
    (
      run.task.to_json(sort_keys=True),
      run.task,
      f"{name}:{preset}:{run.task.get('problem', run.task.name)}",
    )
    for name, preset, run in _preset_sweeps(PRESETS)
  )


@pytest.mark.slow
@pytest.mark.parametrize("task_config", _distinct_tasks())
def test_every_presets_data_builds_at_its_own_size(task_config):
  """The embedded or generated default data of every preset, at the sizes it asks for."""
  data = tasks.make_task(task_config).data
  if "num_eval_sequences" in task_config:  # an RNN: its fixed evaluation sequences, batch first
    sizes = {split: jax.tree.leaves(data[split])[0].shape[0] for split in ("train", "test")}
    assert sizes == {
      "train": task_config.num_eval_sequences,
      "test": task_config.num_eval_sequences,
    }
  else:  # an autoencoder: MNIST's embedded digits are 5,000 whatever the config asks
    train_cases, test_cases = data["train"].shape[0], data["test"].shape[0]
    if task_config.name == "mnist_ae":
      assert (train_cases, test_cases) == (4000, 1000)
    else:
      assert (train_cases, test_cases) == (task_config.num_train, task_config.num_test)
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(data))


@pytest.mark.slow
@pytest.mark.parametrize("run", _distinct_runs())
def test_every_preset_builds_its_data_and_trains_one_chunk(run, tmp_path):
  """Each preset's task and data build (the embedded or generated defaults), and one update
  and one evaluation run, with the update count and the grid cut down."""
  train.prepare_workdir(tmp_path, run)
  (record,) = train.run(run, tmp_path)
  assert record["num_updates"] == 1 and not record["diverged"]
  # The record's error is the task's own error of the trained network, recomputed from its
  # checkpoint at the point its optimizer reports (a wrong data set, point or metric differs).
  _, task, _, point = train.load_final_state(tmp_path)
  state = point(0)
  theta = family(record["optimizer"]).evaluation_params(state.params, state.opt_state)
  np.testing.assert_allclose(
    record["final_train_error"], float(task.evaluate(theta, task.data)["train_error"]), rtol=1e-5
  )
  assert np.isfinite(record["final_train_loss"])


# Each seeds preset and the committed seed-0 results it joins (results/).
SEED_RUNS = [
  ("curves_ae", "seeds", "curves_calibrated_50k_merged"),
  ("curves_ae", "modern_seeds", "curves_calibrated_50k_with_modern"),
  ("curves_ae", "v1_seeds", "curves_ae_updates_50k_merged"),
  ("curves_ae", "v1_modern_seeds", "curves_ae_updates_50k_with_modern"),
  ("mnist_ae", "seeds", "mnist_ae_updates_30k_merged"),
  ("mnist_ae", "modern_seeds", "mnist_ae_updates_30k_with_modern"),
  ("faces_ae", "seeds", "faces_ae_updates_15k_merged"),
  ("rnn_addition", "seeds", "rnn_addition_paper_length_merged"),
  ("rnn_addition", "modern_seeds", "rnn_addition_paper_length_with_modern"),
  ("rnn_multiplication", "seeds", "rnn_multiplication_paper_length_merged"),
  ("rnn_multiplication", "modern_seeds", "rnn_multiplication_paper_length_with_modern"),
  ("rnn_memorization5", "seeds", "rnn_memorization5_paper_length_merged"),
  ("rnn_memorization20", "seeds", "rnn_memorization20_paper_length_merged"),
]


@pytest.mark.parametrize(
  "name, preset, folder", SEED_RUNS, ids=[f"{n}:{p}" for n, p, _ in SEED_RUNS]
)
def test_every_seeds_preset_runs_the_committed_best_eps_on_the_committed_protocol(
  name, preset, folder
):
  """A seeds run is only worth its hours if it merges with the seed-0 run that chose its ε:
  the same protocol (nesterov-jax merge's test) and, for each setting, that run's best ε."""
  import json

  from nesterov_jax.engine import results

  committed = pathlib.Path(__file__).parents[1] / "results" / folder
  config = load_config(f"{CONFIGS / name}.py:{preset}")
  ours = json.loads(config.to_json_best_effort(sort_keys=True))
  assert results._protocol(ours) == results._protocol(
    json.loads((committed / "config.json").read_text())
  )
  best = {
    (s["optimizer"], s["mu_max"]): s["learning_rate"]
    for s in results.select_best(results.load_run(committed)[0])
  }
  points = {(o, float(m)): float(lr) for o, m, lr in config.grid.points}
  assert points and {k: best.get(k) for k in points} == points
  assert 0 not in config.grid.seeds


@pytest.mark.parametrize(
  "preset, folder",
  [
    ("updates_50k", "curves_calibrated_50k_merged"),
    ("v1_updates_50k", "curves_ae_updates_50k_merged"),
  ],
)
def test_table3_runs_at_the_committed_best_eps_of_0999n(preset, folder):
  """Table 3 sweeps the init scale at 0.999N's best ε of the 50,000-update run on the same
  data: a stale ε (the other generator's, or one from before a merge) fails here."""
  import json

  from nesterov_jax.engine import results

  committed = pathlib.Path(__file__).parents[1] / "results" / folder
  best = {
    (s["optimizer"], s["mu_max"]): s["learning_rate"]
    for s in results.select_best(results.load_run(committed)[0])
  }
  config = load_config(f"{CONFIGS / 'curves_init_scale'}.py:{preset}")
  assert tuple(config.grid.learning_rates) == (best[("nag", 0.999)],)
  ours = json.loads(config.to_json_best_effort(sort_keys=True))
  assert ours["task"].get("curves_generator") == json.loads(
    (committed / "config.json").read_text()
  )["task"].get("curves_generator")
