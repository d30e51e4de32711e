"""Successive halving's rule (engine/halving.py): who survives a rung."""

import json
import pathlib

import jax
import numpy as np
import pytest

from nesterov_jax.engine import halving, programs, results, train
from nesterov_jax.engine.config import load_config
from nesterov_jax.engine.report import summary_markdown


def grid(settings, lrs, seeds):
  rows = [(o, mu, lr, s) for o, mu in settings for lr in lrs for s in seeds]
  return {
    "optimizer": np.array([r[0] for r in rows]),
    "mu_max": np.array([r[1] for r in rows]),
    "learning_rate": np.array([r[2] for r in rows]),
    "seed": np.array([r[3] for r in rows]),
  }


def kept(points, keep):
  return sorted(
    {
      (str(o), float(mu), float(lr))
      for o, mu, lr, k in zip(points["optimizer"], points["mu_max"], points["learning_rate"], keep)
      if k
    }
  )


SETTINGS = [("nag", 0.9), ("cm", 0.9)]
LRS = (0.1, 0.01, 0.001)


def test_each_setting_keeps_its_own_best_third_not_the_grids():
  """NAG's every ε beats CM's best: a global ranking keeps no CM; the paper's groups keep one each."""
  points = grid(SETTINGS, LRS, (0,))
  metric = np.array([1.0, 2.0, 3.0, 10.0, 5.0, 20.0])
  keep = halving.survivors(points, metric, np.zeros(6, bool), np.ones(6, bool), eta=3)
  assert kept(points, keep) == [("cm", 0.9, 0.01), ("nag", 0.9, 0.1)]
  # Groups by optimizer alone (every μ_max's ε compete) is a choice the caller can make.
  points2 = grid([("nag", 0.9), ("nag", 0.99)], (0.1, 0.01), (0,))
  keep2 = halving.survivors(
    points2,
    np.array([1.0, 2.0, 3.0, 4.0]),
    np.zeros(4, bool),
    np.ones(4, bool),
    eta=2,
    axes=("optimizer",),
  )
  assert kept(points2, keep2) == [("nag", 0.9, 0.01), ("nag", 0.9, 0.1)]


def test_seeds_go_on_together_judged_by_their_mean():
  points = grid([("nag", 0.9)], (0.1, 0.01), (0, 1))
  metric = np.array([0.1, 0.9, 0.4, 0.4])  # 0.1: the best single seed, the worse mean
  keep = halving.survivors(points, metric, np.zeros(4, bool), np.ones(4, bool), eta=2)
  assert keep.tolist() == [False, False, True, True]


def test_at_least_one_per_group_and_never_a_point_stopped_before():
  points = grid(SETTINGS, LRS, (0,))
  metric = np.arange(6.0)
  keep = halving.survivors(points, metric, np.zeros(6, bool), np.ones(6, bool), eta=100)
  assert keep.tolist() == [True, False, False, True, False, False]
  alive = np.array([False, True, True, True, True, True])  # nag 0.1 stopped at an earlier rung
  keep = halving.survivors(points, metric, np.zeros(6, bool), alive, eta=100)
  assert keep.tolist() == [False, True, False, True, False, False]


def test_a_diverged_seed_sinks_its_epsilon_and_an_all_diverged_group_keeps_nothing():
  points = grid([("nag", 0.9)], (0.1, 0.01), (0, 1))
  metric = np.array([0.01, 0.5, 0.3, 0.3])
  diverged = np.array([False, True, False, False])  # 0.1's other seed blew up
  keep = halving.survivors(points, metric, diverged, np.ones(4, bool), eta=2)
  assert keep.tolist() == [False, False, True, True]
  nan = np.array([np.nan, 0.5, 0.3, 0.3])  # a non-finite metric counts as diverged
  assert (
    halving.survivors(points, nan, np.zeros(4, bool), np.ones(4, bool), eta=2).tolist()
    == keep.tolist()
  )
  assert not halving.survivors(points, metric, np.ones(4, bool), np.ones(4, bool), eta=2).any()


def test_the_reduction_factor_must_exceed_one():
  points = grid([("nag", 0.9)], (0.1,), (0,))
  with pytest.raises(ValueError, match="eta"):
    halving.survivors(points, np.zeros(1), np.zeros(1, bool), np.ones(1, bool), eta=1)


# ---- Halving in the engine: the teacher-MLP smoke grid (CM and NAG at μ_max 0.9, 3 ε, 2 seeds:
# 12 points in 2 groups of 3 candidates), 200 updates in chunks of 50. With η = 1.5 and rungs
# at 50 and 100 each group keeps 2 ε at 50 and 1 at 100: the grid goes 12 → 8 → 4 points.

SMOKE = f"{pathlib.Path(__file__).parents[1] / 'configs' / 'teacher_mlp.py'}:smoke"
GRID = ("grid.mu_max=(0.9,)", "grid.seeds=(0, 1)")
HALVING = ("halving.eta=1.5", "halving.rungs=(50, 100)", "halving.window=50")


def sweep(workdir, *overrides):
  config = load_config(SMOKE, (*GRID, *overrides))
  train.prepare_workdir(workdir, config)
  return train.run(config, workdir)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """The full grid, and the same grid with halving, counting what each program compiled."""
  built = []
  real = programs.build

  def counting(*args, **kwargs):
    built.append(real(*args, **kwargs))
    return built[-1]

  full_dir, halved_dir = tmp_path_factory.mktemp("full"), tmp_path_factory.mktemp("halved")
  full = sweep(full_dir)
  programs.build = counting
  try:
    halved = sweep(halved_dir, *HALVING)
  finally:
    programs.build = real
  return full_dir, full, halved_dir, halved, built


def final_state(workdir):
  import orbax.checkpoint as ocp

  return [
    np.asarray(x)
    for x in jax.tree.leaves(
      ocp.StandardCheckpointer().restore((workdir / "checkpoints" / "200" / "state").resolve())
    )
  ]


@pytest.mark.cpu_bitwise
def test_survivors_run_bitwise_as_in_the_full_grid_and_the_losers_stop_at_their_rung(runs):
  """A survivor's state, gathered into ever smaller grids, is the full grid's bit for bit, and so
  is every training objective it logs up to its stop. Its errors are evaluated by a program
  vmapped over fewer points, whose reductions XLA may order differently: equal to float32's
  last bits (a program with the wrong minibatch keys or a state mixed up between slots fails
  both by far more)."""
  full_dir, full, halved_dir, halved, _ = runs
  stops = [r["stopped_at"] for r in halved]
  assert (
    sorted(stops) == [50] * 4 + [100] * 4 + [200] * 4
  )  # 1 ε of 3 per group at 50, 1 of 2 at 100
  survivors = np.flatnonzero(np.array(stops) == 200)
  for a, b in zip(final_state(full_dir), final_state(halved_dir)):
    assert np.array_equal(
      a[survivors], b[: len(survivors)]
    )  # the halved grid holds them in grid order
  full_lines, halved_lines = results.load_metrics(full_dir), results.load_metrics(halved_dir)
  assert [m["step"] for m in full_lines] == [m["step"] for m in halved_lines]
  for i, (a, b) in enumerate(zip(full, halved)):
    for m, h in zip(full_lines[1:], halved_lines[1:]):
      if m["step"] <= b["stopped_at"]:
        assert m["train_loss"][i] == h["train_loss"][i]
        if "train_error" in m:
          np.testing.assert_allclose(h["train_error"][i], m["train_error"][i], rtol=1e-6)
      else:  # after its stop: nothing, so its curves end there
        assert np.isnan(h["train_loss"][i]) and np.isnan(
          h.get("train_error", [np.nan] * len(full))[i]
        )
    if b["stopped_at"] == 200:
      for k in ("final_train_error", "final_test_error"):
        np.testing.assert_allclose(b[k], a[k], rtol=1e-6)
      assert b["stopped_metric"] is None
    else:
      assert np.isnan(b["final_train_error"]) and np.isfinite(b["stopped_metric"])
  for r, passes in zip(halved, halved_lines[-1]["case_passes"]):  # a point's compute stops with it
    assert passes == 2 * 50 * r["stopped_at"]  # a gradient (2 passes) of 50 cases per update


def test_each_group_keeps_its_best_mean_over_seeds_and_the_table_picks_among_the_finished(runs):
  full_dir, full, _, halved, _ = runs
  lines = results.load_metrics(full_dir)
  for group in ("cm", "nag"):
    rows = [i for i, r in enumerate(full) if r["optimizer"] == group]
    # the rung metric: the training objective of the chunk that ends at 50, mean over the seeds
    at50 = {
      lr: np.mean([lines[1]["train_loss"][i] for i in rows if full[i]["learning_rate"] == lr])
      for lr in {full[i]["learning_rate"] for i in rows}
    }
    worst = max(at50, key=at50.get)
    assert {halved[i]["stopped_at"] for i in rows if halved[i]["learning_rate"] == worst} == {50}
    finished = {halved[i]["learning_rate"] for i in rows if halved[i]["stopped_at"] == 200}
    assert len(finished) == 1  # at least one per group, and seeds together
  best = {(s["optimizer"], s["learning_rate"]) for s in results.select_best(halved)}
  assert best == {(r["optimizer"], r["learning_rate"]) for r in halved if r["stopped_at"] == 200}
  text = summary_markdown(halved)
  assert (
    "stopped 8 of 12 points early" in text
    and "1,400 config-updates against the whole grid's 2,400 (58%)" in text
  )


def test_each_size_compiles_once(runs):
  _, _, halved_dir, _, built = runs
  layouts = json.loads((halved_dir / "halving.json").read_text())["layouts"]
  assert [layout["points"] for layout in layouts] == [12, 8, 4]
  compiled = [p for p in built if p.chunks[0][2]._cache_size()]
  assert len(compiled) == len(layouts)
  assert all(p.chunks[0][2]._cache_size() == 1 for p in compiled)
  assert sorted(sum(p.slots) for p in compiled) == [4, 8, 12]


@pytest.mark.cpu_bitwise
def test_a_run_killed_after_a_rung_resumes_at_its_size_and_ends_bitwise_equal(
  runs, tmp_path, monkeypatch
):
  _, _, halved_dir, halved, _ = runs
  real = train._save

  def dies_after_100(manager, step, args, where):
    real(manager, step, args, where)
    if step == 100:
      raise RuntimeError("killed")

  monkeypatch.setattr(train, "_save", dies_after_100)
  with pytest.raises(RuntimeError, match="killed"):
    sweep(tmp_path, *HALVING)
  monkeypatch.setattr(train, "_save", real)
  resumed = sweep(tmp_path, *HALVING)
  strip = lambda recs: [{k: v for k, v in r.items() if k != "provenance"} for r in recs]
  assert json.dumps(strip(resumed)) == json.dumps(strip(halved))
  drop_wall = lambda d: [
    {k: v for k, v in m.items() if k != "wall_s"} for m in results.load_metrics(d)
  ]
  assert json.dumps(drop_wall(tmp_path)) == json.dumps(drop_wall(halved_dir))
  assert json.loads((tmp_path / "halving.json").read_text()) == json.loads(
    (halved_dir / "halving.json").read_text()
  )


def test_a_diverged_point_leaves_at_the_next_chunk_boundary(tmp_path):
  records = sweep(
    tmp_path,
    "grid.learning_rates=(0.1, 1000.0)",
    "grid.seeds=(0,)",
    "halving.eta=2",
    "halving.rungs=(150,)",
    "halving.window=50",
  )
  wild = [r for r in records if r["learning_rate"] == 1000.0]
  assert wild and all(r["diverged"] for r in wild)
  for r in wild:  # it leaves at the boundary after it diverged, long before the rung
    assert (
      r["stopped_at"] == (r["diverged_at"] // 50 + 1) * 50 < 150 and r["stopped_metric"] is None
    )
  assert all(
    r["stopped_at"] == 200 and not r["diverged"] for r in records if r["learning_rate"] == 0.1
  )
  layouts = json.loads((tmp_path / "halving.json").read_text())["layouts"]
  assert [layout["points"] for layout in layouts] == [4, 2]


def test_rung_metric_is_the_trailing_window_or_the_rung_evaluation():
  lines = [
    {"step": 0, "train_error": [9.0, 9.0]},
    {"step": 50, "train_loss": [4.0, 1.0]},
    {"step": 100, "train_loss": [2.0, np.nan], "train_error": [0.5, 0.25]},
  ]
  loss = halving.Plan((100,), 2.0, "train_loss", 100, None)
  np.testing.assert_array_equal(halving.rung_metric(loss, 100, lines, None), [3.0, np.nan])
  np.testing.assert_array_equal(
    halving.rung_metric(loss._replace(window=50), 100, lines, None), [2.0, np.nan]
  )
  error = loss._replace(metric="train_error")
  np.testing.assert_array_equal(
    halving.rung_metric(error, 100, lines, {"train_error": [0.5, 0.25]}), [0.5, 0.25]
  )


def test_rungs_from_eta_and_a_minimum_budget():
  config = load_config(
    SMOKE,
    (
      "num_updates=2000",
      "chunk_size=50",
      "halving.eta=3",
      "halving.min_updates=100",
      "halving.window=50",
    ),
  )
  assert halving.plan(config, ("optimizer", "mu_max", "learning_rate", "seed")).rungs == (
    100,
    300,
    900,
  )
  assert halving.plan(load_config(SMOKE), ("optimizer",)) is None  # off by default


@pytest.mark.parametrize(
  "overrides, message",
  [
    (("halving.eta=1",), "halving.eta = 1.0: must be a finite number > 1"),
    (("halving.eta=-2",), "halving.eta = -2.0: must be 0 (off) or a number > 1"),
    (
      ("halving.eta=2", "halving.rungs=(60,)"),
      "halving.rungs: 60 is not a multiple of chunk_size (50)",
    ),
    (
      ("halving.eta=2", "halving.rungs=(200,)"),
      "halving.rungs = 200: must be an integer ≥ 50 and < 200",
    ),
    (("halving.eta=2", "halving.rungs=(100, 50)"), "halving.rungs = (100, 50): must increase"),
    (("halving.eta=2",), "halving.min_updates = 0: must be an integer ≥ 50 and < 200"),
    (
      ("halving.eta=2", "halving.rungs=(100,)", "halving.metric=loss"),
      "halving.metric = 'loss': must be one of",
    ),
    (
      ("halving.eta=2", "halving.rungs=(100,)", "halving.window=10"),
      "the window must be at least chunk_size",
    ),
    (
      ("halving.eta=2", "halving.rungs=(100,)", "halving.window=150"),
      "halving.window = 150: must be an integer ≥ 1 and ≤ 100",
    ),
    (
      ("halving.eta=2", "halving.rungs=(100,)", "halving.window=50", "halving.groups=('seed',)"),
      "'seed' is not a grid axis that separates",
    ),
  ],
)
def test_a_bad_halving_field_is_one_line_before_anything_compiles(
  overrides, message, tmp_path, capsys
):
  from nesterov_jax import cli

  assert (
    cli.main(["run", SMOKE, "--workdir", str(tmp_path), *(f"--config.{o}" for o in overrides)]) == 2
  )
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and message in err[0], err


def test_a_stopped_point_is_never_the_best_even_with_a_value():
  base = {
    "task": "t",
    "optimizer": "nag",
    "mu_max": 0.9,
    "seed": 0,
    "diverged": False,
    "diverged_at": -1,
    "num_updates": 100,
    "final_train_error": 0.5,
    "selected_by": "final_train_error",
  }
  records = [
    {**base, "learning_rate": 0.1, "stopped_at": 100},
    {**base, "learning_rate": 0.01, "stopped_at": 50, "final_train_error": 0.1},
  ]
  (best,) = results.select_best(records)
  assert best["learning_rate"] == 0.1


def test_the_comparison_with_the_full_grid_gives_each_settings_choice_and_the_compute(runs):
  from nesterov_jax.engine.report import halving_comparison_markdown

  full_dir, full, halved_dir, halved, _ = runs
  text = halving_comparison_markdown(halved_dir, full_dir)
  assert "share their protocol but for halving" in text
  chosen = lambda recs: {s["optimizer"]: s["learning_rate"] for s in results.select_best(recs)}
  same = sum(chosen(full)[o] == chosen(halved)[o] for o in chosen(full))
  assert f"Same ε in {same} of 2 settings. Config-updates: 1,400 against 2,400 (58%)." in text
  rows = [line for line in text.splitlines() if line.startswith(("| CM", "| NAG"))]
  assert len(rows) == 2
  for row in rows:
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert (cells[5] == "yes") == (cells[1] == cells[3])
    assert (cells[6] == "—") == (cells[5] == "yes")  # a cost only where the choices differ


def test_the_full_grids_wall_time_is_estimated_from_the_halving_runs_own_full_size_chunks(tmp_path):
  from nesterov_jax.engine.report import full_grid_wall_estimate

  # Step 0 at 10 s; chunks of 100 at full size end at 110 s (the compile), 150 s, 200 s; the grid
  # shrinks at update 300; the run's last chunk ends at 250 s and the run at 260 s.
  walls = {0: 10, 100: 110, 200: 150, 300: 200, 400: 250}
  (tmp_path / "metrics.jsonl").write_text(
    "".join(f'{{"step": {s}, "wall_s": {w}}}\n' for s, w in walls.items())
  )
  (tmp_path / "halving.json").write_text('{"layouts": [{"from": 0}, {"from": 300}]}')
  (tmp_path / "results.json").write_text('[{"provenance": {"wall_time_s": 260}}]')
  # 110 (as it ran) + 300 updates at 90 s per 200 + the 10 s after the last chunk.
  assert full_grid_wall_estimate(tmp_path) == pytest.approx(110 + 3 * 45 + 10)
  (tmp_path / "halving.json").write_text('{"layouts": [{"from": 0}, {"from": 100}]}')
  assert (
    full_grid_wall_estimate(tmp_path) is None
  )  # one full-size chunk: its compile cannot be told apart
  # Then a short run of the full grid on the same machine gives the time per update: 66 s per 200.
  timing = tmp_path / "timing"
  timing.mkdir()
  (timing / "metrics.jsonl").write_text(
    "".join(
      f'{{"step": {s}, "wall_s": {w}}}\n' for s, w in {0: 5, 100: 80, 200: 110, 300: 146}.items()
    )
  )
  assert full_grid_wall_estimate(tmp_path, timing) == pytest.approx(110 + 3 * 33 + 10)
