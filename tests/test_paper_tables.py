"""The report puts our numbers beside the paper's, with the protocol difference on each line."""

import json
import pathlib

import ml_collections
import pytest

from nesterov_jax import cli
from nesterov_jax.engine import results
from nesterov_jax.paper import numbers, rnn, tables

CONFIGS = pathlib.Path(__file__).parents[1] / "configs"


pytestmark = pytest.mark.slow  # three smoke runs through the command, then their reports


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  out = {}
  for name in ("curves_ae", "curves_init_scale", "rnn_addition"):
    workdir = tmp_path_factory.mktemp(name)
    assert cli.main(["run", f"{CONFIGS / name}.py:smoke", "--workdir", str(workdir)]) == 0
    out[name] = workdir
  return out


def cells(table: str, first: str) -> list[str]:
  """The cells of the table row that starts with ``first``."""
  (row,) = [line for line in table.splitlines() if line.startswith(f"| {first}")]
  return [c.strip() for c in row.strip("|").split("|")][1:]


def ours(workdir, column, key="final_train_error") -> str:
  """A column's value as the run's own records give it: mean over seeds at its best ε."""
  records = json.loads((workdir / "results.json").read_text())
  (summary,) = [
    s
    for s in results.select_best(records)
    if (s["optimizer"] in ("cm", "nag") and s["mu_max"] == 0) == (column == "sgd")
    and (column == "sgd" or (s["optimizer"], s["mu_max"]) == column)
  ]
  return results.with_spread(summary, key)


def test_table1_and_table2_show_our_records_beside_the_papers_numbers_with_the_protocol(runs):
  workdir = runs["curves_ae"]
  table1 = (workdir / "table1.md").read_text()
  row = cells(table1, "Curves")
  # Each column holds the run's own value of that setting, beside the paper's (a column
  # shifted, a setting mixed up, or a number typed in by hand fails).
  for i, column in enumerate(numbers.TABLE1_COLUMNS):
    paper = f"({numbers.TABLE1['curves_ae'][column]:.3g})"
    if column in ("sgd", ("nag", 0.99), ("cm", 0.99)):  # the smoke grid's settings
      assert row[i] == f"**{ours(workdir, column)}** {paper}", (column, row[i])
    else:
      assert row[i] == f"**—** {paper}", (column, row[i])
  assert (
    "Made by `" in table1 and "ours: 40 updates" in row[-1] and "paper: 750,000 updates" in row[-1]
  )
  # The ratio line divides each column's own mean by its own paper number (a ratio of the
  # wrong column, or inverted, differs).
  records = json.loads((workdir / "results.json").read_text())
  by_column = {
    ("sgd" if s["mu_max"] == 0 else (s["optimizer"], s["mu_max"])): s["final_train_error"]
    for s in results.select_best(records)
  }
  (ratio_line,) = [line for line in table1.splitlines() if line.startswith("Ours ÷ the paper's")]
  for column, label in (("sgd", "SGD (μ = 0)"), (("nag", 0.99), "0.99N"), (("cm", 0.99), "0.99M")):
    ratio = by_column[column] / numbers.TABLE1["curves_ae"][column]
    assert f"{label} {ratio:.3g}" in ratio_line, (label, ratio_line)
  assert "0.9N" not in ratio_line  # a column the smoke grid did not run has no ratio
  table2 = (workdir / "table2.md").read_text()
  (line,) = [line for line in table2.splitlines() if line.startswith("| Curves | 0.99")]
  before, after = (
    ours(workdir, ("nag", 0.99), "train_error_before_finetune"),
    ours(workdir, ("nag", 0.99)),
  )
  assert (
    f"**{before} → {after}**" in line
    and "0.096 → 0.074" in line
    and "last 20 of 40 updates at μ = 0.9" in line
  )
  assert (workdir / "reconstructions.png").stat().st_size > 0


def test_table3_lists_each_init_scale_at_its_own_value_beside_the_papers(runs):
  workdir = runs["curves_init_scale"]
  table3 = (workdir / "table3.md").read_text()
  records = json.loads((workdir / "results.json").read_text())
  for s in results.select_best(records):
    row = cells(table3, f"{s['init_scale']:g} ")
    assert row[0] == f"**{results.with_spread(s)}** ({numbers.TABLE3[s['init_scale']]:.3g})"
    # ours over the paper's, from the mean the row shows (a ratio of the wrong pair fails)
    assert row[1] == f"{s['final_train_error'] / numbers.TABLE3[s['init_scale']]:.3g}"


def test_table5_has_the_biases_column_and_hidden_state_picture(runs):
  workdir = runs["rnn_addition"]
  table5 = (workdir / "table5.md").read_text()
  row = cells(table5, "addition T = 20")
  config = json.loads((workdir / "config.json").read_text())
  biases = rnn.biases_baseline(ml_collections.ConfigDict(config["task"]))
  assert row[0] == f"**{biases:.3g}** (0.82)"
  assert (
    row[1] == f"**{ours(workdir, 'sgd')}** (0.39)"
    and row[4] == f"**{ours(workdir, ('nag', 0.995))}** (0.00025)"
  )
  assert "T = 20" in row[-1] and "T = 80" in row[-1]
  assert (
    "| problem | biases | μ0 = 0 | 0.9N |" in table5 and "μ0 = 0 ε = " in table5
  )  # the paper's "0", not SGD
  assert (runs["rnn_addition"] / "hidden_states.png").stat().st_size > 0


def test_a_checkpoint_of_an_older_layout_costs_the_picture_not_the_report(runs, tmp_path, capsys):
  """A run checkpointed before one program per optimizer family ("slots" was one number):
  the report still writes its tables and plots, and says why there is no picture."""
  import json
  import shutil

  workdir = tmp_path / "old"
  shutil.copytree(runs["rnn_addition"], workdir)
  (workdir / "hidden_states.png").unlink()
  for meta in workdir.glob("checkpoints/*/meta/metadata"):
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "slots": 36}))
  (workdir / "table5.md").unlink()
  assert cli.main(["report", str(workdir)]) == 0
  assert (workdir / "table5.md").exists() and not (workdir / "hidden_states.png").exists()
  assert "written by an older nesterov_jax" in capsys.readouterr().err


def test_optimizers_the_paper_did_not_run_get_their_own_marked_columns(runs, tmp_path):
  """Adam and RMSProp on Table 5's protocol, run apart and merged with the paper's run: their
  columns follow the paper's, each marked as not in the paper, at its own best ε."""
  modern = tmp_path / "modern"
  assert (
    cli.main(
      [
        "run",
        f"{CONFIGS / 'rnn_addition'}.py:smoke",
        "--workdir",
        str(modern),
        "--config.grid.optimizers=('adam', 'rmsprop')",
        "--config.grid.mu_max=(0.0,)",
        "--config.optimizer_args.adam.b2=0.99",
      ]
    )
    == 0
  )
  merged = tmp_path / "merged"
  assert cli.main(["merge", str(merged), str(runs["rnn_addition"]), str(modern)]) == 0
  table5 = (merged / "table5.md").read_text()
  header = next(line for line in table5.splitlines() if line.startswith("| problem |"))
  assert (
    header.index("0.995N")
    < header.index("adam (not in the paper)")
    < header.index("rmsprop (not in the paper)")
  )
  row = next(line for line in table5.splitlines() if line.startswith("| addition T = "))
  assert row.count("**") == 2 * (len(header.split("|")) - 4)  # every cell bold: ours in each column
  assert "adam ε = " in table5 and "rmsprop ε = " in table5


def test_reconstructions_of_a_run_without_nag_show_cm_and_adam(tmp_path, monkeypatch):
  """A run with no NAG still pictures networks, not the held-out cases alone: its best CM in
  NAG's row (dropping the fallback leaves that row out), and Adam, which the paper did not
  run (dropping the other optimizers' rows leaves it out)."""
  from nesterov_jax.paper import figures

  workdir = tmp_path / "no_nag"
  assert (
    cli.main(
      [
        "run",
        f"{CONFIGS / 'curves_ae'}.py:smoke",
        "--workdir",
        str(workdir),
        "--config.grid.optimizers=('cm', 'adam')",
        "--config.grid.mu_max=(0.9,)",
      ]
    )
    == 0
  )
  records = json.loads((workdir / "results.json").read_text())
  saved = []
  monkeypatch.setattr(figures.files, "save_figure", lambda fig, path, **k: saved.append(fig))
  figures.reconstructions_figure(workdir, records)
  titles = [ax.get_title(loc="left") for ax in saved[0].axes if ax.get_title(loc="left")]
  assert len(saved[0].axes) == 3 * 8  # the held-out cases, CM's and Adam's reconstructions
  assert titles[0] == "held-out cases"
  assert titles[1].startswith("best CM") and titles[2].startswith("best adam"), titles
  adam = min((r for r in records if r["optimizer"] == "adam"), key=lambda r: r["final_train_error"])
  assert titles[2].endswith(f", seed {adam['seed']}")  # which seed it shows


def test_settings_are_named_as_the_paper_names_them():
  """μ_max 0 on Eq. 5's schedule is SGD; μ0 = 0 on the RNN schedule is not (its warm-up runs at
  μ = 0.9), so it keeps the paper's column name; optimizers without μ show none."""
  from nesterov_jax.engine.results import label

  assert label({"optimizer": "nag", "mu_max": 0.0}) == "SGD"
  assert label({"optimizer": "cm", "mu_max": 0.0}, "μ0") == "μ0 = 0"
  assert label({"optimizer": "nag", "mu_max": 0.995}, "μ0") == "NAG, μ0 0.995"
  assert label({"optimizer": "hf", "mu_max": 0.95}, "ζ") == "HF, ζ 0.95"
  assert label({"optimizer": "adam", "mu_max": 0.0}) == "adam"


def test_table1_says_where_eq5_reaches_each_mu_max_and_whether_the_run_got_there():
  """Curves at 50,000 updates never runs at μ = 0.999 (Eq. 5 reaches it at 124,750); at
  250,000 it holds there for 124,250 updates before the last 1,000 at μ = 0.9. The numbers are
  the paper's period of 250 worked by hand: μ[t] = 1 − 1/(2(⌊t/250⌋ + 1))."""
  provenance = {
    "command": "c",
    "commit": "x",
    "device": "d",
    "wall_time_s": 1.0,
    "finished_utc": "now",
    "versions": {"jax": "j", "optax": "o"},
  }
  rs = [
    {
      "task": "curves_ae",
      "optimizer": o,
      "mu_max": mu,
      "learning_rate": 0.001,
      "seed": 0,
      "final_train_error": 1.0,
      "train_error_before_finetune": 1.1,
      "diverged": False,
      "diverged_at": -1,
      "num_updates": 50_000,
      "precision": "highest",
      "data": "d",
      "provenance": provenance,
    }
    for o in ("nag", "cm")
    for mu in (0.0, 0.99, 0.999)
  ]
  config = {
    "task": {"name": "curves_ae"},
    "num_updates": 50_000,
    "grid": {"learning_rates": [0.001]},
    "schedule": {"kind": "eq5", "period": 250, "finetune_steps": 1000},
  }
  text = tables.table1(rs, config)
  assert (
    "Eq. 5 (period 250; the last 1,000 updates at μ = 0.9) first gives μ = μ_max at: 0.99 at update "
    "12,250, then held for 36,750 updates; 0.999 at update 124,750, past update 49,000, where the last "
    "1,000 at μ = 0.9 begin: that column never ran at μ = 0.999."
  ) in text
  text = tables.table1(rs, {**config, "num_updates": 250_000})
  assert "0.999 at update 124,750, then held for 124,250 updates." in text
