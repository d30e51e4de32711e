"""Quasi-random search (engine/search.py): the drawn points lie in their ranges, reproduce
from the seed, cover the square more evenly than independent draws, and train as one
compiled program, exactly as a grid does."""

import json
import pathlib

import numpy as np
import pytest
from scipy.stats import qmc

from nesterov_jax.engine import grid, programs, report, search, train
from nesterov_jax.engine.config import ConfigError, load_config

ROOT = pathlib.Path(__file__).parents[1]
SMOKE = f"{ROOT / 'configs' / 'teacher_mlp.py'}:smoke"
SEARCH = [
  "grid.optimizers=('nag', 'cm')",
  "grid.search.num_points=6",
  "grid.search.learning_rate=('log', 1e-3, 0.3)",
  "grid.search.mu_max=('log1m', 1e-3, 0.1)",
]


def test_the_drawn_points_lie_in_their_ranges_and_reproduce_from_the_seed():
  config = load_config(SMOKE, [*SEARCH, "grid.search.num_points=64"])
  triples = grid.settings(config.grid)
  assert [t[0] for t in triples[:4]] == ["nag", "cm", "nag", "cm"]  # each pair with every optimizer
  mus, lrs = np.array([t[1] for t in triples]), np.array([t[2] for t in triples])
  assert (mus >= 0.9).all() and (mus <= 0.999).all() and (lrs >= 1e-3).all() and (lrs <= 0.3).all()
  assert grid.settings(config.grid) == triples
  other = load_config(SMOKE, [*SEARCH, "grid.search.num_points=64", "grid.search.seed=1"])
  assert grid.settings(other.grid) != triples


def test_halton_covers_the_square_better_than_independent_uniform_draws():
  """The centred L2 discrepancy (scipy's) of 64 points, averaged over 8 seeds: a sequence that
  were plain random draws would not beat them."""
  halton = np.mean([qmc.discrepancy(search.halton(64, 2, seed)) for seed in range(8)])
  uniform = np.mean(
    [qmc.discrepancy(np.random.default_rng(seed).random((64, 2))) for seed in range(8)]
  )
  assert halton < 0.5 * uniform
  # Stratified: each block of 8 points has one in each eighth of the first axis.
  assert sorted(np.floor(search.halton(8, 2, 3)[:, 0] * 8 + 1e-9)) == list(range(8))


@pytest.mark.parametrize(
  "override, message",
  [
    (
      "grid.search.learning_rate=('log', 0.0, 0.1)",
      "grid.search.learning_rate = 0.0: must be a finite number > 0",
    ),
    ("grid.search.learning_rate=('log', 0.1, 0.01)", "low must be below high"),
    ("grid.search.mu_max=('log1m', 0.01, 2.0)", "1 − μ above 1 makes μ negative"),
    ("grid.search.mu_max=('uniform', 0.5, 1.0)", "μ_max must stay below 1"),
    (
      "grid.search.mu_max=('loguniform', 0.5, 0.9)",
      "must be (kind, low, high) with kind one of log, uniform, log1m",
    ),
    ("grid.search.num_points=-3", "grid.search.num_points = -3: must be an integer ≥ 0"),
    (
      "grid.points=(('nag', 0.9, 0.01),)",
      "grid.points and grid.search both list the grid's points",
    ),
  ],
)
def test_a_bad_range_is_refused_in_one_line_before_anything_compiles(override, message):
  config = load_config(SMOKE, [*SEARCH, override])
  with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
    grid.validate(config)


def test_a_search_trains_as_one_grid_compiled_once_and_reports_a_scatter(tmp_path, monkeypatch):
  built = []
  real = programs.build
  monkeypatch.setattr(programs, "build", lambda *a, **k: built.append(real(*a, **k)) or built[-1])
  config = load_config(
    SMOKE, [*SEARCH, "num_updates=100", "eval_every=100", "checkpoint_every=100"]
  )
  train.prepare_workdir(tmp_path, config)
  records = train.run(config, tmp_path)
  report.write_report(tmp_path)
  drawn = grid.settings(config.grid)
  assert [(r["optimizer"], r["mu_max"], r["learning_rate"]) for r in records] == [
    (o, float(str(np.float32(m))), float(str(np.float32(lr)))) for o, m, lr in drawn
  ]
  [program] = built  # one program for the 12 points (NAG and CM are one family here)
  assert sum(program.slots) >= 12 and all(chunk[2]._cache_size() == 1 for chunk in program.chunks)
  summary = (tmp_path / "summary.md").read_text()
  assert (
    "## Best point per optimizer" in summary and "6 (μ_max, ε) points drawn from ranges" in summary
  )
  assert (tmp_path / "lr_mu_scatter.png").stat().st_size > 10_000 and not (
    tmp_path / "lr_mu_heatmap.png"
  ).exists()
  assert json.loads((tmp_path / "config.json").read_text())["grid"]["search"]["num_points"] == 6
