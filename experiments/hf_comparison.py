"""Section 5 on one autoencoder: classic HF (Martens 2010; Table 1's HF*), the momentum-like
hybrid (HF†) and NAG at about the same compute, then the comparison.

Configs with ``experiment = "hf_comparison"`` hold three sweep configs, ``classic``,
``hybrid`` and ``nag`` (see ``configs/hf_curves.py``). Writes ``WORKDIR/{classic,hybrid,nag}/``
(each a sweep run with its report), then ``WORKDIR/table1.md`` (Table 1's HF columns, ours
beside the paper's), ``WORKDIR/error_vs_passes.png`` and ``WORKDIR/findings.md``.
"""

from __future__ import annotations

import pathlib

import jax
import matplotlib.pyplot as plt
import ml_collections

from nesterov_jax.engine import files, findings, grid, report as sweep_report
from nesterov_jax.engine.config import ConfigError
from nesterov_jax.engine.results import hparam_keys, load_run, select_best, setting
from nesterov_jax.engine.train import prepare_workdir
from nesterov_jax.experiments import sweep as sweep_experiment
from nesterov_jax.paper import findings as paper_findings, tables

RUNS = {
  "classic": ("HF (Martens 2010)", "C3"),
  "hybrid": ("momentum-like HF (§5)", "C2"),
  "nag": ("NAG", "C0"),
}


def validate(config: ml_collections.ConfigDict) -> None:
  for name in RUNS:
    grid.validate(config[name])
  if len({config[name].task.name for name in RUNS}) != 1:
    raise ConfigError("classic, hybrid and nag must train the same task")
  if "hf" not in config.classic.grid.optimizers or "hf" not in config.hybrid.grid.optimizers:
    raise ConfigError("classic and hybrid are HF runs (grid.optimizers = ('hf',))")


def run(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
  for name in RUNS:
    prepare_workdir(workdir / name, config[name])
    sweep_experiment.run(config[name], workdir / name)
  if jax.process_index() == 0:
    write_report(workdir)


def passes_figure(runs: dict[str, tuple[list[dict], list[dict]]], path: pathlib.Path) -> None:
  """Training error against passes through the training set, for the three runs."""
  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  for name, (records, metrics) in runs.items():
    title, color = RUNS[name]
    evals = [
      m for m in metrics if "train_error" in m and m["step"] > 0
    ]  # log axis: from the first eval
    styles = iter(["-", "--", ":", "-."])
    hparams, best = hparam_keys(records), select_best(records)
    for s in best:
      if s["learning_rate"] is None:
        continue
      i = next(
        i
        for i, r in enumerate(records)
        if setting(r, hparams) == setting(s, hparams) and r["learning_rate"] == s["learning_rate"]
      )
      passes = [m["case_passes"][i] / records[i]["num_train"] for m in evals]
      label = (
        f"{title}, μ_max {s['mu_max']:g}, ε {s['learning_rate']:g}"
        if name == "nag"
        else title + ("" if len(best) == 1 else f", ζ {s['mu_max']:g}, ε {s['learning_rate']:g}")
      )
      ax.plot(
        passes, [m["train_error"][i] for m in evals], next(styles), color=color, label=label, lw=1.2
      )
  ax.set_yscale("log")
  ax.set_xscale("log")
  sweep_report.save_error_plot(
    fig,
    ax,
    path,
    "passes through the training set (gradient = 2, G·v = 2 per case)",
    f"{records[0]['task']}: HF, momentum-like HF and NAG against compute\n"
    "(each run's evaluations, from its first after the start)",
  )


def write_report(workdir: pathlib.Path) -> None:
  """The comparison: table1.md (HF columns), error_vs_passes.png and findings.md."""
  workdir = pathlib.Path(workdir)
  runs = {name: load_run(workdir / name) for name in RUNS}
  configs = {name: files.read_json(workdir / name / "config.json") for name in RUNS}
  passes_figure(runs, workdir / "error_vs_passes.png")
  files.write_text(
    workdir / "table1.md", tables.table1_hf({name: (runs[name][0], configs[name]) for name in RUNS})
  )
  # One record set of the three runs, each record's optimizer named by its run.
  joined = [{**r, "optimizer": name} for name in RUNS for r in runs[name][0]]
  task = joined[0]["task"]
  files.write_text(
    workdir / "findings.md",
    findings.markdown(
      findings.evaluate_all(paper_findings.hf_findings(task), joined),
      joined,
      f"{task}: Section 5's findings on this run (HF*, HF† and NAG)",
    ),
  )
  print(f"wrote {workdir}/table1.md, error_vs_passes.png, findings.md")
