"""Reading a run's records: the paper's choice of ε, and statistics over seeds."""

import pytest

from nesterov_jax.engine import results


def rec(optimizer, mu, lr, seed, err, diverged=False, before=None):
  r = {
    "task": "t",
    "optimizer": optimizer,
    "mu_max": mu,
    "learning_rate": lr,
    "seed": seed,
    "final_train_error": err,
    "diverged": diverged,
    "diverged_at": -1,
    "num_updates": 1,
    "precision": "highest",
    "data": "",
    "provenance": {
      "command": "c",
      "commit": "0" * 40,
      "device": "d",
      "wall_time_s": 1.0,
      "finished_utc": "t",
      "versions": {"jax": "j", "optax": "o"},
    },
  }
  if before is not None:
    r["train_error_before_finetune"] = before
  return r


# NAG 0.9: ε tuned on seed 0 (0.01 beats 0.1), then seeds 1-3 run at 0.01 only. CM 0.9: one ε,
# two seeds (no selection). A mean over all seeds would pick 0.1 for NAG (0.525 > 0.5).
RECORDS = [
  rec("nag", 0.9, 0.1, 0, 0.5),
  rec("nag", 0.9, 0.01, 0, 0.3),
  rec("nag", 0.9, 0.01, 1, 0.6),
  rec("nag", 0.9, 0.01, 2, 0.4),
  rec("nag", 0.9, 0.01, 3, 0.8),
  rec("cm", 0.9, 0.1, 0, 0.2),
  rec("cm", 0.9, 0.1, 1, 0.4),
]


def test_epsilon_is_chosen_by_the_seeds_every_epsilon_ran_and_reported_over_all_seeds():
  cm, nag = results.select_best(RECORDS)
  assert results.tuning_seeds(RECORDS) == {("nag", 0.9): {0}, ("cm", 0.9): set()}
  assert nag["learning_rate"] == 0.01 and nag["seeds"] == 4 and nag["seed_list"] == [0, 1, 2, 3]
  assert nag["final_train_error"] == pytest.approx(0.525)
  assert (nag["final_train_error_min"], nag["final_train_error_max"]) == (0.3, 0.8)
  assert nag["final_train_error_std"] == pytest.approx(0.1920286, rel=1e-6)
  # the seeds that did not choose ε carry no selection bias: their mean is worse than seed 0's
  assert nag["fresh_seeds"] == 3 and nag["final_train_error_fresh"] == pytest.approx(0.6)
  assert cm["fresh_seeds"] == 0 and cm["final_train_error_fresh"] is None and cm["seeds"] == 2
  assert results.with_spread(nag) == "0.525 (0.3–0.8, n = 4; 3 fresh: 0.6)"
  assert results.with_spread(cm) == "0.3 (0.2–0.4, n = 2)"
  one = results.select_best([rec("nag", 0.9, 0.1, 0, 0.25)])[0]
  assert results.with_spread(one) == "0.25 (n = 1)"
  assert results.per_seed(RECORDS, nag) == {0: 0.3, 1: 0.6, 2: 0.4, 3: 0.8}


def test_each_init_scale_chooses_its_own_learning_rate():
  """Table 3 reports each scale at its own best ε: a grid axis beyond (optimizer, μ_max) is part
  of the setting (one ε for every scale, or the ε best on average, fails)."""
  records = []
  for scale, errors in ((1.0, {0.001: 2.0, 0.0005: 3.0}), (4.0, {0.001: 9.0, 0.0005: 8.0})):
    for lr, err in errors.items():
      records.append({**rec("nag", 0.999, lr, 0, err), "init_scale": scale})
  best = {s["init_scale"]: s for s in results.select_best(records)}
  assert (best[1.0]["learning_rate"], best[1.0]["final_train_error"]) == (0.001, 2.0)
  assert (best[4.0]["learning_rate"], best[4.0]["final_train_error"]) == (0.0005, 8.0)


def test_an_outcome_some_seeds_did_not_record_is_left_out_of_that_setting_alone():
  """Merged runs may differ in their milestones (a grid without a momentum optimizer records no
  ``train_error_before_finetune``): a setting whose seeds all hold it keeps its statistics, one
  whose seeds do not leaves it out rather than failing or averaging a subset of the seeds."""
  records = [
    rec("adam", 0.0, 0.003, 0, 2.7, before=2.72),
    rec("adam", 0.0, 0.003, 1, 3.4),
    rec("nag", 0.99, 0.005, 0, 2.0),
    rec("nag", 0.99, 0.005, 1, 1.9, before=2.5),
  ]
  records[2]["train_error_before_finetune"] = 2.6
  adam, nag = results.select_best(records)
  assert "train_error_before_finetune" not in adam and adam["final_train_error"] == pytest.approx(
    3.05
  )
  assert nag["train_error_before_finetune"] == pytest.approx(2.55) and nag["seeds"] == 2
  assert results.outcome_keys(records[1:]) == ["final_train_error", "train_error_before_finetune"]


def test_best_learning_rate_excludes_one_where_a_seed_that_chose_it_diverged():
  records = [
    rec("nag", 0.9, 0.1, 0, 0.5),
    rec("nag", 0.9, 0.1, 1, 0.7),
    rec("nag", 0.9, 0.01, 0, 0.4),
    rec("nag", 0.9, 0.01, 1, 0.9),
    rec("nag", 0.9, 1.0, 0, 0.01, diverged=True),
    rec("nag", 0.9, 1.0, 1, 0.01),
  ]
  (best,) = results.select_best(records)
  assert best["learning_rate"] == 0.1 and best["final_train_error"] == pytest.approx(0.6)
  assert best["final_train_error_std"] == pytest.approx(0.1) and best["seeds"] == 2
  (none,) = results.select_best([rec("nag", 0.9, 1.0, 0, 0.01, diverged=True)])
  assert none["learning_rate"] is None


def test_merge_accepts_runs_that_differ_only_in_how_they_computed(tmp_path):
  """A run made with another evaluation batch (or the RNN's scan unroll), or with halving's section off (a
  run made before it existed has none), is the same protocol; another task size, update
  count or halving on is not, and the refusal names the field."""
  from nesterov_jax.engine import files

  base = {  # the RNN task declares its unroll a field of how it computes (how_fields)
    "task": {"name": "rnn", "num_train": 100, "eval_batch_size": 500, "unroll": 1},
    "num_updates": 10,
    "grid": {"seeds": [0]},
    "eval_every": 5,
  }
  variants = {
    "same": {
      "grid": {"seeds": [1]},
      "eval_every": 10,
      "task": {**base["task"], "eval_batch_size": 2000, "unroll": 8},
      "halving": {"eta": 0.0, "rungs": []},
    },
    "halved": {"halving": {"eta": 3.0, "rungs": [5]}},
    "bigger": {"task": {**base["task"], "num_train": 200}},
    "longer": {"num_updates": 20},
  }
  for name, config in [("a", base)] + [(n, {**base, **change}) for n, change in variants.items()]:
    (tmp_path / name).mkdir()
    files.write_json(tmp_path / name / "config.json", config)
  assert results._protocol({**base, **variants["same"]}) == results._protocol(base)
  with pytest.raises(
    FileNotFoundError, match="results.json"
  ):  # past the protocol check, to the records
    results.merge_runs([tmp_path / "a", tmp_path / "same"], tmp_path / "out")
  for name, field in (
    ("bigger", "fields that differ: task.num_train"),
    ("longer", "fields that differ: num_updates"),
    ("halved", "fields that differ: halving"),
  ):
    with pytest.raises(ValueError, match=field + r"\)"):
      results.merge_runs([tmp_path / "a", tmp_path / name], tmp_path / "out")


def test_error_curves_mark_where_eq5_reaches_each_mu_max_within_the_run():
  """A 250,000-update Curves run marks 12,250, 24,750 and 124,750; a 50,000-update one never
  reaches 0.999, so it has no mark there."""
  import matplotlib.pyplot as plt
  import ml_collections

  from nesterov_jax.engine import report
  from nesterov_jax.paper.optimizers import schedule_config

  config = ml_collections.ConfigDict({"schedule": schedule_config()})
  for updates, expected in ((250_000, [12_250, 24_750, 124_750]), (50_000, [12_250, 24_750])):
    records = [
      {"optimizer": o, "mu_max": mu, "num_updates": updates}
      for o in ("nag", "cm")
      for mu in (0.99, 0.995, 0.999)
    ]
    fig, ax = plt.subplots()
    assert report._mark_momentum(ax, records, config)
    assert sorted(line.get_xdata()[0] for line in ax.get_lines()) == expected
    # the labels stand at different heights, so 12,250's and 24,750's stay legible on 250,000
    assert len({text.xyann[1] for text in ax.texts}) == len(expected)
    plt.close(fig)
  fig, ax = plt.subplots()
  assert not report._mark_momentum(
    ax, [{"optimizer": "adam", "mu_max": 0.0, "num_updates": 1000}], config
  )
  plt.close(fig)


def test_an_error_plot_s_long_title_wraps_inside_the_figure(tmp_path):
  """A run with Adam beside NAG and CM has a long third title line (the line styles and the
  dotted marks); unwrapped, it ran off the figure's right edge."""
  import matplotlib.pyplot as plt

  from nesterov_jax.engine import report

  title = (
    "curves_ae: training error at each setting's best ε\none seed (0)\n"
    "NAG solid, CM dashed, adam/rmsprop dash-dot; dotted: the update where μ first reaches μ_max"
  )
  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  ax.plot([0, 1], [1, 2], label="x")
  report.save_error_plot(fig, ax, tmp_path / "plot.png", "update", title)
  assert (tmp_path / "plot.png").exists()
  wrapped = ax.get_title()  # what the saved plot shows
  assert wrapped == report.wrap_title(title)
  assert wrapped.count("\n") == 3  # the long line became two; the short ones stay as they were
  assert wrapped.split("\n")[:2] == title.split("\n")[:2]
  assert all(len(line) <= report.TITLE_WIDTH for line in wrapped.split("\n"))
  assert wrapped.replace("\n", " ").split() == title.replace("\n", " ").split()  # no word lost


def test_summary_names_the_seeds_it_ran_by_id_beside_their_count():
  from nesterov_jax.engine.report import summary_markdown

  rows = [l for l in summary_markdown(RECORDS).splitlines() if l.startswith("| ")]
  assert rows[0].endswith("| seed ids | diverged at best ε |")
  nag = next(l for l in rows if l.startswith("| nag | 0.9 | 0.01 |"))
  assert "(0.3–0.8, n = 4; 3 fresh: 0.6) | 0, 1, 2, 3 | 0 |" in nag
  # one seed, seed 3: its id, not a count of three
  one = summary_markdown([rec("nag", 0.9, 0.1, 3, 0.25)]).splitlines()
  assert any(l.endswith("| 0.25 (n = 1) | 3 | 0 |") for l in one)


def test_the_heatmap_names_the_seeds_that_chose_epsilon_only_where_some_did():
  """A run of fresh seeds at each setting's chosen ε ran one ε per setting: its heatmap averages
  those seeds and must not call them the seeds that chose ε."""
  from nesterov_jax.engine.report import heatmap_seeds

  assert heatmap_seeds(RECORDS) == "seed 0 (the seeds that chose ε)"
  fresh = [
    rec("nag", 0.9, 0.05, 1, 1.0),
    rec("nag", 0.9, 0.05, 2, 2.0),
    rec("nag", 0.99, 0.01, 1, 0.1),
    rec("nag", 0.99, 0.01, 2, 0.2),
  ]
  assert heatmap_seeds(fresh) == "mean over seeds 1, 2 (one ε per setting: none chosen here)"
  # merged runs that tuned NAG 0.9 on seed 0 alone and NAG 0.99 on seeds 0 and 1: no one list covers every cell
  mixed = RECORDS + [rec("nag", 0.99, lr, seed, 0.1) for lr in (0.1, 0.01) for seed in (0, 1)]
  assert (
    heatmap_seeds(mixed)
    == "each setting's mean over the seeds that chose its ε (seeds 0, 1 in all)"
  )


def test_the_heatmap_boxes_each_settings_chosen_epsilon_and_shows_n(tmp_path, monkeypatch):
  """A heatmap that boxed the lowest cell of a column, not the ε the paper's rule chose, or that
  hid how many seeds a cell averages, or boxed an ε in a run that chose none, fails here."""
  import matplotlib.patches

  from nesterov_jax.engine import report

  saved = []
  monkeypatch.setattr(report.files, "save_figure", lambda fig, path, **k: saved.append(fig))
  report.heatmap_figure(RECORDS, tmp_path / "h.png")
  cm_ax, nag_ax = saved[0].axes[:2]
  boxes = {
    ax.get_title(): [
      (round(p.get_x() + 0.47), round(p.get_y() + 0.47))
      for p in ax.patches
      if isinstance(p, matplotlib.patches.Rectangle) and not p.get_fill()
    ]
    for ax in (cm_ax, nag_ax)
  }
  # rows: ε 0.01, 0.1; NAG chose 0.01 of the two it ran; CM ran 0.1 alone, so chose nothing here
  assert boxes == {"CM": [], "NAG": [(0, 0)]}
  texts = [t.get_text() for t in cm_ax.texts]
  assert "0.3\nn = 2" in texts  # cells average different numbers of seeds: each says its n
  assert (
    "n per cell" in saved[0]._suptitle.get_text() and "red box" in saved[0]._suptitle.get_text()
  )
  saved.clear()
  report.heatmap_figure([r for r in RECORDS if r["seed"] == 0], tmp_path / "h.png")
  assert "n = 1 per cell" in saved[0]._suptitle.get_text()
  # fresh seeds, one ε per setting (two ε in all): no box, and the title promises none
  saved.clear()
  report.heatmap_figure([r for r in RECORDS if r["seed"] > 0], tmp_path / "h.png")
  assert not [p for ax in saved[0].axes for p in ax.patches if not p.get_fill()]
  assert "red box" not in saved[0]._suptitle.get_text()


def test_a_search_s_error_curves_show_each_optimizer_s_best_not_every_point(tmp_path, monkeypatch):
  """With more settings than a legend can hold (a search), the curves are each optimizer's
  best; with few, every setting's. A plot of every point of a 34-point search hid its curves
  behind its legend."""
  from nesterov_jax.engine import report

  points = [(o, 0.9 + 0.005 * i, 0.01) for i in range(8) for o in ("nag", "cm")]
  records = [rec(o, mu, lr, 0, 1.0 + mu + (o == "cm")) for o, mu, lr in points]
  metrics = [
    {"step": 0, "train_error": [2.0] * len(records)},
    {"step": 10, "train_error": [r["final_train_error"] for r in records]},
  ]
  saved = []
  monkeypatch.setattr(report.files, "save_figure", lambda fig, path, **k: saved.append(fig))
  report.error_curves_figure(records, metrics, tmp_path / "e.png")
  labels = [line.get_label() for line in saved[0].axes[0].get_lines()]
  assert labels == ["NAG, μ_max 0.9, ε 0.01", "CM, μ_max 0.9, ε 0.01"], labels
  assert "best setting (of 16 that trained)" in saved[0].axes[0].get_title()
  few = records[:8]
  report.error_curves_figure(
    few,
    [{"step": 0, "train_error": [2.0] * 8}, {"step": 10, "train_error": [1.0] * 8}],
    tmp_path / "e.png",
  )
  assert len(saved[1].axes[0].get_lines()) == 8
