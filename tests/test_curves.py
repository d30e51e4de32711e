"""Our Curves generators (paper/curves.py) and the data statistics they are calibrated against
(paper/data_stats.py): the calibrated generator's held-out statistics lie within the original
Curves' published values, and our first generator's do not."""

import jax
import numpy as np
import pytest

from nesterov_jax import cli
from nesterov_jax.paper import curves, data_stats

NUM_TRAIN, NUM_TEST = 20_000, 5_000


@pytest.fixture(scope="module")
def calibrated():
  images = np.asarray(
    curves.render("calibrated", jax.random.key(0), NUM_TRAIN + NUM_TEST), np.float64
  )
  return images[:NUM_TRAIN], images[NUM_TRAIN:]


@pytest.mark.parametrize("name", ["pca_18", "mean_image", "mean_image_cross_entropy"])
def test_the_calibrated_curves_match_the_originals_published_statistics(calibrated, name):
  """Fails if the pen, the peak or the points' range drifts: PCA-18's band is ±10 %."""
  train, test = calibrated
  stats = {
    "pca_18": lambda: data_stats.pca_error(train, test, 18),
    **{
      k: (lambda k=k: data_stats.mean_image(train, test)[k])
      for k in ("mean_image", "mean_image_cross_entropy")
    },
  }
  assert data_stats.within_band(name, stats[name]()), (
    name,
    stats[name](),
    data_stats.ORIGINAL_CURVES[name],
  )


def test_our_first_generator_is_outside_the_bands():
  """The statistics tell the generators apart: v1's curves carry about twice the variance."""
  images = np.asarray(curves.render("v1", jax.random.key(0), 6_000), np.float64)
  train, test = images[:5_000], images[5_000:]
  assert data_stats.pca_error(train, test, 18) > 2 * data_stats.ORIGINAL_CURVES["pca_18"].value
  assert not data_stats.within_band("mean_image", data_stats.mean_image(train, test)["mean_image"])


def test_calibrated_curves_stay_inside_the_points_range_at_the_pens_peak_and_reproduce_from_the_key():
  images = np.asarray(curves.render("calibrated", jax.random.key(3), 64)).reshape(64, 28, 28)
  assert images.max() == pytest.approx(curves.PEAK_INTENSITY, rel=0.02) and images.min() >= 0.0
  # Points lie in [margin, 27 − margin]: nothing is drawn more than the pen's reach beyond.
  reach = int(np.ceil(curves.MARGIN - curves.PEN_HALF_WIDTH - 3 * curves.PEN_BLUR))
  assert images[:, :reach].max() < 1e-3 and images[:, :, :reach].max() < 1e-3
  np.testing.assert_array_equal(
    np.asarray(curves.render("calibrated", jax.random.key(3), 64)), images.reshape(64, 784)
  )


def test_the_pen_is_a_blurred_band_and_its_limit_a_gaussian():
  d = np.linspace(0.0, 4.0, 9)
  assert float(curves.pen(0.0, 1.25, 0.6, 0.74)) == pytest.approx(0.74)
  np.testing.assert_allclose(
    curves.pen(d, 0.0, 0.8, 1.0), np.exp(-(d**2) / (2 * 0.8**2)), rtol=1e-6
  )
  np.testing.assert_allclose(
    curves.pen(d, 0.1, 0.8, 1.0), np.exp(-(d**2) / (2 * 0.8**2)), atol=0.02
  )
  assert np.all(np.diff(np.asarray(curves.pen(d, 1.25, 0.6, 1.0))) <= 0)


def test_pca_error_is_the_variance_outside_the_top_components():
  rng = np.random.default_rng(0)
  basis = np.linalg.qr(rng.normal(size=(20, 3)))[0]
  train = rng.normal(size=(500, 3)) * [3.0, 2.0, 1.0] @ basis.T + 0.5
  test = rng.normal(size=(200, 3)) * [3.0, 2.0, 1.0] @ basis.T + 0.5
  assert data_stats.pca_error(train, test, 3) == pytest.approx(0.0, abs=1e-9)
  # Dropping the weakest direction leaves its variance, 1 per image (up to sampling).
  assert data_stats.pca_error(train, test, 2) == pytest.approx(1.0, rel=0.2)
  assert data_stats.mean_image(train, test)["mean_image"] == pytest.approx(14.0, rel=0.2)


def test_logistic_pca_recovers_a_low_rank_logit_model_that_pca_cannot():
  """Pixels that are sigmoid(b + u·v) of 2-D codes: logistic PCA with 2 components
  reconstructs held-out images far better than standard PCA with 2."""
  rng = np.random.default_rng(1)
  v = rng.normal(size=(60, 2)) * 3.0

  def images(n):
    return 1.0 / (1.0 + np.exp(-(rng.normal(size=(n, 2)) @ v.T - 2.0)))

  train, test = images(800), images(200)
  logistic, penalty = data_stats.logistic_pca_error(train, test, 2)
  assert penalty in data_stats.PENALTIES
  assert logistic < 0.1 * data_stats.pca_error(train, test, 2)


def test_the_data_command_writes_the_statistics_and_a_sample_sheet(tmp_path, monkeypatch, capsys):
  monkeypatch.setenv("NESTEROV_JAX_CACHE", str(tmp_path / "cache"))
  out = tmp_path / "stats"
  assert (
    cli.main(
      [
        "data",
        "curves",
        "--out",
        str(out),
        "--no-logistic",
        "--num-train",
        "600",
        "--num-test",
        "200",
      ]
    )
    == 0
  )
  table = (out / "statistics.md").read_text()
  assert "| pca 18 |" in table and "| 5.9 |" in table and "our calibrated generator" in table
  assert (out / "samples.png").stat().st_size > 1000 and "pca 18" in capsys.readouterr().out


def test_the_calibration_search_sets_the_peak_by_the_mean_image_and_writes_its_table(
  tmp_path, monkeypatch
):
  import importlib.util
  import pathlib

  spec = importlib.util.spec_from_file_location(
    "calibrate", pathlib.Path(__file__).parents[1] / "scripts" / "calibrate_curves.py"
  )
  search = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(search)
  for name, value in dict(
    MARGINS=(4.0,), HALF_WIDTHS=(1.25, 0.5), BLURS=(0.6,), NUM_TRAIN=2_000, NUM_TEST=1_000
  ).items():
    monkeypatch.setattr(search, name, value)
  search.main(str(tmp_path / "search.md"))
  text = (tmp_path / "search.md").read_text()
  assert text.startswith(
    "# The calibrated Curves generator's search\n\nMade by `python scripts/calibrate_curves.py"
  )
  assert "Best: margin 4, half-width 1.25, blur 0.6" in text
  rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| 4 |")]
  assert len(rows) == 2 and all(
    abs(float(r[4]) / 16.9 - 1) < 0.01 for r in rows
  )  # each peak matches the mean image


def _long_script():
  import importlib.util
  import pathlib

  spec = importlib.util.spec_from_file_location(
    "curves_long", pathlib.Path(__file__).parents[1] / "scripts" / "curves_long.py"
  )
  script = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(script)
  return script


def test_the_long_script_pairs_every_250k_point_left_headline_first(tmp_path, capsys):
  """scripts/curves_long.py 250k splits updates_250k's grid into runs of two. A script that
  lost a point, ran a finished one again, or ran the headline settings late fails here."""
  import ast
  import json
  import shlex

  script = _long_script()
  grid = script.grid_runs(script.LENGTHS["250k"][0])
  assert len(grid) == 12 and len(set(grid)) == 12 and {c[3] for c in grid} == {0}
  finished = tmp_path / "curves_calibrated_250k_nag0999_0.01"
  finished.mkdir()
  (finished / "results.json").write_text(
    json.dumps([{"optimizer": "nag", "mu_max": 0.999, "learning_rate": 0.01, "seed": 0}])
  )
  # a 750k run of the same point is not a 250k one
  other = tmp_path / "curves_calibrated_750k_nag099_0.01_s0"
  other.mkdir()
  (other / "results.json").write_text(
    json.dumps([{"optimizer": "nag", "mu_max": 0.99, "learning_rate": 0.01, "seed": 0}])
  )
  assert script.main(["250k", "--dry-run", "--results", str(tmp_path)]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert len(lines) == 6  # 11 points left: five pairs and one alone
  runs = [ast.literal_eval(shlex.split(line)[-1].split("=", 1)[1]) for line in lines]
  left = [p for run in runs for p in run]
  assert sorted(left) == sorted(c[:3] for c in grid if c[:3] != ("nag", 0.999, 0.01))
  assert {p[1] for p in left[:3]} == {0.99, 0.999} and all(p[0] == "nag" for p in left[:3])
  assert f"--workdir {tmp_path}/curves_calibrated_250k_nag099_0.01_nag099_0.005 " in lines[0]
  assert "seeds" not in lines[0]  # the preset's seed 0
  assert script.main(["250k", "--dry-run", "--max-runs", "2", "--results", str(tmp_path)]) == 0
  assert capsys.readouterr().out.splitlines() == lines[:2]
  # --per-run 1: the same order, one point per run, each on one device
  argv = ["250k", "--dry-run", "--per-run", "1", "--max-runs", "3", "--results", str(tmp_path)]
  assert script.main(argv) == 0
  singles = capsys.readouterr().out.splitlines()
  assert [ast.literal_eval(shlex.split(line)[-1].split("=", 1)[1]) for line in singles] == [
    (p,) for p in left[:3]
  ]
  assert all(line.startswith("NESTEROV_JAX_CPU_DEVICES=1 nesterov-jax run ") for line in singles)
  assert f"--workdir {tmp_path}/curves_calibrated_250k_nag099_0.01 " in singles[0]
  with pytest.raises(SystemExit):  # no run of zero configs
    script.main(["250k", "--dry-run", "--per-run", "0", "--results", str(tmp_path)])
  assert "--per-run must be at least 1" in capsys.readouterr().err


def test_the_long_script_brackets_each_250k_best_at_the_edge_of_what_ran(tmp_path, capsys):
  """Once a setting's 250k grid configs have finished, the script adds one ε past its best
  where that best is the highest or lowest ε run. A script that added no edge, stepped the
  wrong way, bracketed a setting again, added one before its grid finished, or stepped off
  the ε ladder's end fails here."""
  import ast
  import json
  import shlex

  script = _long_script()
  grid = script.grid_runs(script.LENGTHS["250k"][0])
  error = {  # (optimizer, μ_max) → {ε: final training error}; a None is a diverged run
    ("nag", 0.99): {0.01: 0.1, 0.005: 0.2},  # best at the top: 0.05 next
    ("nag", 0.995): {0.01: 0.1, 0.005: 0.2, 0.05: None},  # bracketed above by a divergence
    ("nag", 0.999): {0.01: 0.3, 0.005: 0.2},  # best at the bottom: 0.001 next
    ("cm", 0.99): {0.005: 0.1, 0.001: 0.2, 0.01: 17.0},  # bracketed above by the plateau
    ("cm", 0.995): {0.005: 0.1},  # its grid's lower ε has not run: no edge yet
    ("cm", 0.999): {0.001: 0.4, 0.0005: 0.3, 0.0001: 0.2, 0.00005: 0.1},  # the ladder's end
  }
  assert {c[:2] for c in grid} == set(error)
  records = [
    {
      "task": "curves_ae",
      "optimizer": key[0],
      "mu_max": key[1],
      "learning_rate": lr,
      "seed": 0,
      "final_train_error": float("inf") if e is None else e,
      "diverged": e is None,
      "num_updates": 250_000,
    }
    for key, by_lr in error.items()
    for lr, e in by_lr.items()
  ]
  finished = tmp_path / "curves_calibrated_250k_all"
  finished.mkdir()
  (finished / "results.json").write_text(json.dumps(records))
  assert script.main(["250k", "--dry-run", "--per-run", "1", "--results", str(tmp_path)]) == 0
  lines = capsys.readouterr().out.splitlines()
  runs = [ast.literal_eval(shlex.split(line)[-1].split("=", 1)[1]) for line in lines]
  assert sorted(p for run in runs for p in run) == sorted(
    [("cm", 0.995, 0.001), ("nag", 0.99, 0.05), ("nag", 0.999, 0.001)]
  )
  # the headline μ_max first, as for the grid's own configs
  assert [run[0][:2] for run in runs[:2]] == [("nag", 0.99), ("nag", 0.999)]


def test_the_long_script_runs_each_750k_config_alone_seed_by_seed(tmp_path, capsys):
  """750k: one (point, seed) per run on one device, the two μ_max of a seed before the next
  seed. A script that paired them (over 3 hours a run), dropped the seed from the command or
  the folder, or reran a finished seed fails here."""
  import pathlib

  script = _long_script()
  grid = [("nag", mu, 0.01, s) for s in (0, 1, 2) for mu in (0.99, 0.999)]
  done = {("nag", 0.99, 0.01, 0)}
  runs = script.commands("750k", grid, done, pathlib.Path("results"), (0.99, 0.999))
  assert len(runs) == 5
  assert [r[4] for r in runs] == [
    f"results/curves_calibrated_750k_{n}"
    for n in ("nag0999_0.01_s0", "nag099_0.01_s1", "nag0999_0.01_s1", "nag099_0.01_s2")
    + ("nag0999_0.01_s2",)
  ]
  assert runs[1][-2:] == ["--config.grid.points=(('nag', 0.99, 0.01),)", "--config.grid.seeds=(1,)"]
  assert script.LENGTHS["750k"][2] == {"NESTEROV_JAX_CPU_DEVICES": "1"}
  # the six configs of the preset (LONG_BEST_LEARNING_RATES filled), none finished yet
  assert script.main(["750k", "--dry-run", "--results", str(tmp_path)]) == 0
  assert len(capsys.readouterr().out.splitlines()) == 6

  # a preset that cannot build yet (ε not chosen) says why and runs nothing
  def unbuilt(preset):
    raise ValueError("fill LONG_BEST_LEARNING_RATES")

  script.grid_runs = unbuilt
  assert script.main(["750k", "--dry-run", "--results", str(tmp_path)]) == 2
  out = capsys.readouterr()
  assert "fill LONG_BEST_LEARNING_RATES" in out.err and not out.out
