"""Tables and plots from a sweep's run directory (results.json + metrics.jsonl).

``nesterov-jax report DIR`` (and every sweep, when it ends) writes:

- ``summary.md``: per (optimizer, μ_max, task hyperparameters), the learning rate with the
  lowest final training error (mean over seeds, diverged points excluded), as the paper
  selects it; then every grid point.
- ``error_curves.png``: training error against updates for each setting at its best ε.
- ``lr_mu_heatmap.png``: final training error over learning rate × μ_max, per optimizer (when
  the grid has more than one such cell).
- ``best_per_optimizer.png``: training error against updates of each optimizer at its best
  setting (when the run holds more than one optimizer family: Adam beside SGD, CM and NAG);
- whatever the task's ``report`` hook writes (``tasks.task_report``: a task's own tables,
  findings and pictures).

Every word a report uses for a setting (its label, what μ_max is, its line style) comes from
its optimizer's family (:mod:`nesterov_jax.engine.optimizers`).
"""

from __future__ import annotations

import collections
import pathlib
import textwrap

import matplotlib.pyplot as plt
import numpy as np

import ml_collections

from nesterov_jax.engine import files, provenance, search
from nesterov_jax.engine.optimizers import family
from nesterov_jax.engine.results import (
  hparam_keys,
  kind,
  label,
  load_run,
  select_best,
  selection_key,
  setting,
  stopped,
  tuning_seeds,
  with_spread,
)
from nesterov_jax.engine.tasks import task_report


def seeds_phrase(records: list[dict]) -> str:
  """How many seeds the run's settings have, for a title: "seed 0" (one), "3 seeds"."""
  counts = sorted({s["seeds"] for s in select_best(records) if s["learning_rate"] is not None})
  if counts == [1]:
    return (
      f"one seed ({records[0]['seed']})"
      if len({r["seed"] for r in records}) == 1
      else "one seed each"
    )
  return (
    "n = " + "–".join(map(str, (counts[0], counts[-1])))
    if len(counts) > 1
    else f"{counts[0]} seeds"
  )


def without_momentum(records: list[dict]) -> set[str]:
  """Optimizers that ran once per ε at μ_max 0 because they take no μ (Adam & co.): their μ
  column shows "—", not a 0 that reads as plain SGD."""
  mus = collections.defaultdict(set)
  for r in records:
    mus[r["optimizer"]].add(r["mu_max"])
  return {o for o, m in mus.items() if m == {0.0} and not family(o).uses_momentum}


def halving_markdown(records: list[dict]) -> list[str]:
  """For a run with successive halving: how many points it stopped early, and the
  config-updates it ran against the whole grid's ([] for a run without)."""
  if not any("stopped_at" in r for r in records):
    return []
  ran = sum(min(r.get("stopped_at", r["num_updates"]), r["num_updates"]) for r in records)
  full = sum(r["num_updates"] for r in records)
  early = sum(stopped(r) for r in records)
  return [
    f"Successive halving stopped {early} of {len(records)} points early (`stopped_at` in every "
    f"record; the best ε is chosen among the points that finished): {ran:,} config-updates "
    f"against the whole grid's {full:,} ({ran / full:.0%}).",
    "",
  ]


def search_markdown(records: list[dict]) -> list[str]:
  """A quasi-random search's best point per optimizer (each point is its own setting, at one ε)."""
  by = selection_key(records)
  lines = [
    "## Best point per optimizer",
    "",
    f"Quasi-random search (engine/search.py): {len({(r['mu_max'], r['learning_rate']) for r in records})} "
    f"(μ_max, ε) points drawn from ranges, each with every optimizer; lowest {by.replace('_', ' ')}, "
    f"{_over_seeds(records)}.",
    "",
    "| optimizer | μ_max | 1 − μ_max | ε | " + by + " | seeds |",
    "|---|---|---|---|---|---|",
  ]
  for s in best_of_each_optimizer(records):
    lines.append(
      f"| {s['optimizer']} | {s['mu_max']:.6g} | {1 - s['mu_max']:.3g} | {s['learning_rate']:.3g} | "
      f"{with_spread(s, by, 4)} | {', '.join(map(str, s['seed_list']))} |"
    )
  return lines + [""]


def summary_markdown(records: list[dict], searched: bool = False) -> str:
  hparams = hparam_keys(records)
  no_mu = without_momentum(records)
  mu_text = lambda r: "—" if r["optimizer"] in no_mu else f"{r['mu_max']:g}"
  outcome = sorted(
    (k for k in records[0] if k.startswith("final_")), key=lambda k: k != "final_train_error"
  )
  lines = [
    f"# {records[0]['task']}: best learning rate per setting",
    "",
    provenance.records_markdown(records),
    (f"Data: {records[0]['data']}. " if records[0]["data"] else "")
    + f"{records[0]['num_updates']} updates, matmul precision "
    f"`{records[0]['precision']}`. Errors are measured at θ (`evaluation_params`). "
    + (
      "Learning rate chosen by the lowest final training error"
      if selection_key(records) == "final_train_error"
      else "Learning rate chosen by the lowest `final_train_loss` (the training objective on the "
      "fresh minibatches of the last 1000 updates; this run is a pilot too short for the "
      "training error to leave its plateau)"
    )
    + ", mean over the seeds that ran every ε of the setting (the seeds that chose ε). "
    "Each value: the mean over all seeds run at that ε (min–max, n; and the mean over the "
    "fresh seeds, which did not choose ε, where there are any)."
    + "".join(
      f" {note}" for note in dict.fromkeys(family(o).note for o in _optimizers(records)) if note
    ),
    "",
    *halving_markdown(records),
    *(search_markdown(records) if searched else ()),
    "| optimizer | μ_max | "
    + "".join(f"{h} | " for h in hparams)
    + "best ε | "
    + " | ".join(outcome)
    + " | seed ids | diverged at best ε |",
    "|---|---|" + "---|" * (len(hparams) + len(outcome) + 3),
  ]
  for s in select_best(records):
    lr = "all diverged" if s["learning_rate"] is None else f"{s['learning_rate']:g}"
    lines.append(
      f"| {s['optimizer']} | {mu_text(s)} | "
      + "".join(f"{s[h]:g} | " for h in hparams)
      + f"{lr} | "
      + " | ".join(with_spread(s, k, 4) for k in outcome)
      + f" | {', '.join(map(str, s['seed_list']))} | {s['diverged']} |"
    )
  lines += [
    "",
    "## Every grid point",
    "",
    "| optimizer | μ_max | ε | seed | "
    + "".join(f"{h} | " for h in hparams)
    + " | ".join(outcome)
    + " | diverged |",
    "|---|---|---|---|" + "---|" * (len(hparams) + len(outcome) + 1),
  ]
  for r in records:
    div = f"at {r['diverged_at']}" if r["diverged"] else "no"
    if stopped(r):
      metric = "" if r.get("stopped_metric") is None else f", metric {r['stopped_metric']:.4g}"
      div += f"; halving stopped it at {r['stopped_at']}{metric}"
    lines.append(
      f"| {r['optimizer']} | {mu_text(r)} | {r['learning_rate']:g} | {r['seed']} | "
      + "".join(f"{r[h]:g} | " for h in hparams)
      + " | ".join(f"{r[k]:.4g}" for k in outcome)
      + f" | {div} |"
    )
  return "\n".join(lines) + "\n"


def _optimizers(records: list[dict]) -> list[str]:
  return list(dict.fromkeys(r["optimizer"] for r in records))


def run_config(workdir: pathlib.Path | None) -> ml_collections.ConfigDict | None:
  """The run's config.json, or None where the folder has none."""
  path = workdir / "config.json" if workdir is not None else None
  if path is None or not path.exists():
    return None
  return ml_collections.ConfigDict(files.read_json(path))


def mu_name(records: list[dict], workdir: pathlib.Path | None = None) -> str:
  """What the grid's μ_max is to the run's first optimizer (its family says: Eq. 5's μ_max,
  Section 4's μ0, HF's ζ, ...)."""
  config = run_config(workdir)
  return family(records[0]["optimizer"]).mu_name(config) if config is not None else "μ_max"


def _curves(records: list[dict], metrics: list[dict]):
  """The evaluation steps, and a function from a setting's summary (``select_best``) to its
  training error at those steps at its best ε: (mean, min, max) over its seeds."""
  evals = [m for m in metrics if "train_error" in m]
  errors = np.array([m["train_error"] for m in evals])  # [evals, points]
  hparams = hparam_keys(records)

  def curve(s: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx = [
      i
      for i, r in enumerate(records)
      if setting(r, hparams) == setting(s, hparams) and r["learning_rate"] == s["learning_rate"]
    ]
    return errors[:, idx].mean(axis=1), errors[:, idx].min(axis=1), errors[:, idx].max(axis=1)

  return np.array([m["step"] for m in evals]), curve, errors


def _plot_curve(ax, x, curve, style: str, **kwargs) -> None:
  """A setting's mean over seeds, with its min–max over seeds as a band where it has several."""
  mean, low, high = curve
  (line,) = ax.plot(x, mean, style, **kwargs)
  if np.any(high > low):
    ax.fill_between(x, low, high, color=line.get_color(), alpha=0.18, lw=0)


def _error_scale(ax, errors: np.ndarray) -> None:
  if np.all(errors > 0):
    ax.set_yscale("log")
  else:  # errors that reach 0 (a solved RNN problem): logarithmic above the smallest positive one
    positive = errors[errors > 0]
    ax.set_yscale("symlog", linthresh=float(positive.min()) if positive.size else 1e-3)


MAX_CURVES = 12  # more settings than this: the error curves show each optimizer's best


def error_curves_figure(records: list[dict], metrics: list[dict], path: pathlib.Path) -> None:
  steps, curve, errors = _curves(records, metrics)
  hparams = hparam_keys(records)
  mu = mu_name(records, path.parent)
  shown = [s for s in select_best(records) if s["learning_rate"] is not None]
  what = "each setting's best ε"
  if len(shown) > MAX_CURVES:  # a search's many points: a legend that long hides the curves
    what = f"each optimizer's best setting (of {len(shown)} that trained)"
    shown = best_of_each_optimizer(records)
  # A colour per setting (CM and NAG at one μ_max differ in colour and in line style).
  colours = plt.get_cmap("tab10" if len(shown) <= 10 else "tab20")
  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  for k, s in enumerate(shown):
    text = f"{label(s, mu)}, ε {s['learning_rate']:g}"
    text += "".join(f", {h} {s[h]:g}" for h in hparams if len({r[h] for r in records}) > 1)
    _plot_curve(
      ax,
      steps,
      curve(s),
      family(s["optimizer"]).line_style(s["optimizer"]),
      label=text,
      lw=1.2,
      color=colours(k % colours.N),
    )
  _error_scale(ax, errors)
  marked = _mark_momentum(ax, records, run_config(path.parent))
  save_error_plot(
    fig,
    ax,
    path,
    "update",
    f"{records[0]['task']}: training error at {what}\n{_over_seeds(records)}\n{_styles(records)}"
    + ("; dotted: the update where μ first reaches μ_max" if marked else ""),
  )


def _mark_momentum(ax, records: list[dict], config) -> bool:
  """A dotted line at each update where a setting's schedule first reaches its μ_max (Eq. 5:
  0.99 at 12,250, 0.995 at 24,750, 0.999 at 124,750), within the run; whether it drew any."""
  if config is None:
    return False
  marks = {}
  for r in records:
    update = family(r["optimizer"]).reaches(config, r["mu_max"])
    if update is not None and 0 < update < r["num_updates"]:
      marks.setdefault(update, r["mu_max"])
  for i, (update, mu) in enumerate(sorted(marks.items())):  # each label a line lower: close marks
    ax.axvline(
      update, color="0.6", lw=0.8, ls=":", zorder=0
    )  # (12,250 and 24,750 of 250,000) overlap
    ax.annotate(
      f"μ = {mu:g}",
      (update, 1.0),
      xycoords=("data", "axes fraction"),
      xytext=(2, -10 - 8 * i),
      textcoords="offset points",
      fontsize=6,
      color="0.4",
    )
  return bool(marks)


def _styles(records: list[dict]) -> str:
  """The plots' line styles in words: "NAG solid, CM dashed, adam dash-dot"."""
  words = {"-": "solid", "--": "dashed", "-.": "dash-dot", ":": "dotted"}
  by_style = collections.defaultdict(list)
  for name in _optimizers(records):
    by_style[family(name).line_style(name)].append(
      family(name).kind(name, 1.0)
    )  # its name at μ > 0
  return ", ".join(
    f"{'/'.join(dict.fromkeys(names))} {words.get(style, style)}"
    for style, names in by_style.items()
  )


def _over_seeds(records: list[dict]) -> str:
  phrase = seeds_phrase(records)
  return phrase if phrase.startswith("one seed") else f"mean over {phrase} (band: min–max)"


def best_of_each_optimizer(records: list[dict]) -> list[dict]:
  """Each algorithm's best setting (algorithms as the families name them, so CM or NAG at
  μ_max 0 is "SGD", an algorithm of its own), in the order the run first lists them; those
  whose every ε diverged are left out.

  Each setting is at its best ε (``select_best``: chosen by the seeds that chose ε); among an
  algorithm's settings (μ_max, task axes) the best is the lowest mean of the selection key
  over all the seeds each ran at that ε, the mean the summary's table shows, and the rule by
  which findings.md resolves "best CM" (``findings.resolve``), so the plot and the findings
  name one setting."""
  by = selection_key(records)
  groups = collections.defaultdict(list)
  for s in select_best(records):
    if s["learning_rate"] is not None:
      groups[kind(s)].append(s)
  order = list(dict.fromkeys(kind(r) for r in records))
  return [min(groups[name], key=lambda s: s[by]) for name in sorted(groups, key=order.index)]


def best_per_optimizer_figure(records: list[dict], metrics: list[dict], path: pathlib.Path) -> None:
  """Training error against updates, one line per optimizer at its best setting."""
  steps, curve, errors = _curves(records, metrics)
  mu = mu_name(records, path.parent)
  fig, ax = plt.subplots(figsize=(6.5, 4.2))
  for s in best_of_each_optimizer(records):
    _plot_curve(
      ax,
      steps,
      curve(s),
      family(s["optimizer"]).line_style(s["optimizer"]),
      lw=1.4,
      label=f"{label(s, mu)}, ε {s['learning_rate']:g}",
    )
  _error_scale(ax, errors)
  save_error_plot(
    fig,
    ax,
    path,
    "update",
    f"{records[0]['task']}: training error of each optimizer "
    f"at its best setting (lowest {selection_key(records).replace('_', ' ')})\n{_over_seeds(records)}",
  )


# Characters of a title line at fontsize 9 that fit the error plots' 6.5-inch width.
TITLE_WIDTH = 80


def wrap_title(title: str, width: int = TITLE_WIDTH) -> str:
  """Each line of ``title`` wrapped at ``width`` characters, so no line runs off the figure."""
  return "\n".join(textwrap.fill(line, width) for line in title.split("\n"))


def save_error_plot(fig, ax, path: pathlib.Path, xlabel: str, title: str) -> None:
  """Labels, legend and the atomic save shared by the plots of training error."""
  ax.set_xlabel(xlabel)
  ax.set_ylabel("training error at θ")
  ax.set_title(wrap_title(title), fontsize=9)
  ax.legend(fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=130)
  plt.close(fig)


def heatmap_seeds(records: list[dict]) -> str:
  """Which seeds the heatmap's cells average: those that chose ε where a setting ran several ε
  (each setting its own, where settings were tuned on different seeds); where every setting ran
  one ε (a run of fresh seeds at chosen ε), all seeds, and no choice."""
  tuning = tuning_seeds(records)
  chose = set().union(*tuning.values())
  seeds = sorted(chose or {r["seed"] for r in records})
  names = ", ".join(map(str, seeds))
  if len({frozenset(s) for s in tuning.values() if s}) > 1:  # settings tuned on different seeds
    return f"each setting's mean over the seeds that chose its ε (seeds {names} in all)"
  text = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean over seeds {names}"
  return text + (" (the seeds that chose ε)" if chose else " (one ε per setting: none chosen here)")


def heatmap_figure(records: list[dict], path: pathlib.Path) -> None:
  """Learning rate × μ_max (or × the task axis that varies, when μ_max does not: Table 3)."""
  optimizers = sorted({r["optimizer"] for r in records})
  lrs = sorted({r["learning_rate"] for r in records})
  varying = [h for h in hparam_keys(records) if len({r[h] for r in records}) > 1]
  column = varying[0] if len({r["mu_max"] for r in records}) == 1 and varying else "mu_max"
  mu = mu_name(records, path.parent)
  no_mu = without_momentum(records)
  by = selection_key(records)
  hparams, tuning = hparam_keys(records), tuning_seeds(records)
  cells, halted = collections.defaultdict(list), {}
  for r in records:  # over the seeds that chose ε, where a setting ran several
    if not tuning[setting(r, hparams)] or r["seed"] in tuning[setting(r, hparams)]:
      cells[(r["optimizer"], r["learning_rate"], r[column])].append(
        np.nan if r["diverged"] or stopped(r) else r[by]
      )
      if stopped(r) and not r["diverged"]:  # successive halving stopped it: no final value
        halted[(r["optimizer"], r["learning_rate"], r[column])] = r["stopped_at"]
  means = {k: float(np.mean(v)) for k, v in cells.items()}
  counts = {k: len(v) for k, v in cells.items()}
  one_n = len(set(counts.values())) == 1
  tried = collections.defaultdict(set)  # the ε each cell's setting ran: a choice needs two
  for o, lr, c in cells:
    tried[(o, c)].add(lr)
  chosen = {
    (b["optimizer"], b["learning_rate"], b.get(column))
    for b in select_best(records)
    if b["learning_rate"] is not None and len(tried[(b["optimizer"], b.get(column))]) > 1
  }
  finite = np.array([v for v in means.values() if np.isfinite(v) and v > 0])
  vmin = finite.min() if finite.size else 1e-3
  vmax = min(finite.max(), 1e3 * vmin) if finite.size else 1.0  # colours clip; labels don't
  widths = [len({k[2] for k in cells if k[0] == o}) for o in optimizers]
  fig, axes = plt.subplots(
    1,
    len(optimizers),
    figsize=(max(7.0, 1.3 * sum(widths) + 2.5), 3.6),
    squeeze=False,
    width_ratios=widths,
    layout="constrained",
  )
  for ax, o in zip(axes[0], optimizers):
    mus = sorted({k[2] for k in cells if k[0] == o})
    table = np.array([[means.get((o, lr, mu), np.nan) for mu in mus] for lr in lrs])
    im = ax.imshow(
      np.log10(np.maximum(table, vmin)),
      origin="lower",
      aspect="auto",
      cmap="viridis",
      vmin=np.log10(vmin),
      vmax=np.log10(vmax),
    )
    for (i, j), v in np.ndenumerate(table):
      if (o, lrs[i], mus[j]) not in means:
        continue  # not on the grid (a grid of points gives each setting its own ε)
      stop = halted.get((o, lrs[i], mus[j]))
      text = (
        f"stop\n{stop:,}"
        if stop is not None and np.isnan(v)
        else "div"
        if np.isnan(v)
        else f"{v:.3g}"
      )
      text += "" if one_n else f"\nn = {counts[(o, lrs[i], mus[j])]}"
      ax.text(
        j,
        i,
        text,
        ha="center",
        va="center",
        fontsize=7,
        color="k" if np.isnan(v) or v >= np.sqrt(vmin * vmax) else "w",
      )  # NaN cells are blank
      if (o, lrs[i], mus[j]) in chosen:  # the ε the setting chose among those it ran, boxed
        ax.add_patch(
          plt.Rectangle((j - 0.47, i - 0.47), 0.94, 0.94, fill=False, ec="tab:red", lw=1.8)
        )
    ax.set_xticks(range(len(mus)), [f"{m:g}" for m in mus])
    ax.set_yticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
    ax.set_xlabel(column.replace("mu_max", mu))
    if column == "mu_max" and o in no_mu:
      ax.set_xticks([0], ["—"])
      ax.set_xlabel("one run per ε")
    ax.set_title(
      o.upper() + ("" if column == "mu_max" else f", μ_max {records[0]['mu_max']:g}"), fontsize=9
    )
  axes[0][0].set_ylabel("learning rate ε")
  what = (
    "final training error" if by == "final_train_error" else "training objective, last 1000 updates"
  )
  fig.colorbar(im, ax=axes[0].tolist(), label=f"log10 {what}")
  once = "".join(
    f"; {label(shared[0], mu)} run once for {' and '.join(sorted({s['optimizer'] for s in shared}))}"
    for shared in _run_once(records)
  )
  n = f"n = {next(iter(counts.values()))} per cell" if one_n and counts else "n per cell"
  fig.suptitle(
    f"{records[0]['task']}: {what}, {heatmap_seeds(records)}, {n}\n"
    f"({'red box: the ε chosen where a setting ran several; ' if chosen else ''}div = diverged; "
    f"{'stop N = stopped by successive halving at update N; ' if halted else ''}"
    f"empty = not run{once})",
    fontsize=9,
  )
  files.save_figure(fig, path, dpi=130)
  plt.close(fig)


def scatter_figure(records: list[dict], path: pathlib.Path) -> None:
  """A quasi-random search's points: final error over ε × (1 − μ_max), both on log scales, one
  panel per optimizer, each point's mean over seeds; the best point starred."""
  by = selection_key(records)
  optimizers = _optimizers(records)
  points = collections.defaultdict(list)
  for r in records:
    points[(r["optimizer"], r["learning_rate"], r["mu_max"])].append(
      np.nan if r["diverged"] or stopped(r) else r[by]
    )
  means = {k: float(np.mean(v)) for k, v in points.items()}
  finite = np.array([v for v in means.values() if np.isfinite(v) and v > 0])
  vmin = finite.min() if finite.size else 1e-3
  vmax = min(finite.max(), 1e3 * vmin) if finite.size else 1.0  # colours clip, as the heatmap's
  fig, axes = plt.subplots(
    1,
    len(optimizers),
    figsize=(4.2 * len(optimizers) + 1.2, 4.2),
    squeeze=False,
    sharey=True,
    layout="constrained",
  )
  best = {s["optimizer"]: s for s in best_of_each_optimizer(records)}
  for ax, o in zip(axes[0], optimizers):
    keys = [k for k in means if k[0] == o]
    x = np.array([k[1] for k in keys])
    y = np.array([max(1 - k[2], 1e-12) for k in keys])
    v = np.array([means[k] for k in keys])
    ok = np.isfinite(v)
    im = ax.scatter(
      x[ok],
      y[ok],
      c=np.log10(np.clip(v[ok], vmin, vmax)),
      cmap="viridis",
      s=36,
      vmin=np.log10(vmin),
      vmax=np.log10(vmax),
    )
    if (~ok).any():
      ax.scatter(x[~ok], y[~ok], marker="x", color="tab:red", s=30, label="diverged or stopped")
    if o in best:
      ax.scatter(
        [best[o]["learning_rate"]],
        [max(1 - best[o]["mu_max"], 1e-12)],
        marker="*",
        s=220,
        facecolor="none",
        edgecolor="k",
        label=f"best: {best[o][by]:.3g}",
      )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate ε")
    ax.set_title(o.upper(), fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
  axes[0][0].set_ylabel(f"1 − {mu_name(records, path.parent)}")
  what = (
    "final training error" if by == "final_train_error" else "training objective, last 1000 updates"
  )
  fig.colorbar(im, ax=axes[0].tolist(), label=f"log10 {what}")
  fig.suptitle(
    f"{records[0]['task']}: quasi-random search, {what}, {_over_seeds(records)}\n"
    "(colours clip at 1000× the lowest value)",
    fontsize=9,
  )
  files.save_figure(fig, path, dpi=130)
  plt.close(fig)


def _run_once(records: list[dict]) -> list[list[dict]]:
  """Algorithms that several of the run's optimizers share at one μ_max, which the grid runs
  once under the first name (CM and NAG at μ_max 0: plain SGD)."""
  names = _optimizers(records)
  out, seen = [], set()
  for r in records:
    fam, algorithm = family(r["optimizer"]), (kind(r), r["mu_max"])
    sharers = [
      n
      for n in names
      if family(n).key == fam.key and family(n).kind(n, r["mu_max"]) == algorithm[0]
    ]
    if len(sharers) > 1 and algorithm not in seen:
      seen.add(algorithm)
      out.append([{"optimizer": n, "mu_max": r["mu_max"]} for n in sharers])
  return out


def write_report(workdir: pathlib.Path) -> None:
  """Writes summary.md, the plots and the task's own files into a sweep's run directory."""
  workdir = pathlib.Path(workdir)
  records, metrics = load_run(workdir)
  config = run_config(workdir)
  searched = config is not None and search.active(config.grid)
  files.write_text(workdir / "summary.md", summary_markdown(records, searched))
  error_curves_figure(records, metrics, workdir / "error_curves.png")
  plots = ["error_curves.png"]
  if searched:  # points drawn from ranges: no grid to lay a heatmap on
    scatter_figure(records, workdir / "lr_mu_scatter.png")
    plots.append("lr_mu_scatter.png")
  elif (
    len({(r["optimizer"], r["learning_rate"], r["mu_max"]) for r in records}) > 1
  ):  # else one cell
    heatmap_figure(records, workdir / "lr_mu_heatmap.png")
    plots.append("lr_mu_heatmap.png")
  if (
    len({family(o).key for o in _optimizers(records)}) > 1
    and len(best_of_each_optimizer(records)) > 1
  ):
    best_per_optimizer_figure(records, metrics, workdir / "best_per_optimizer.png")
    plots.append("best_per_optimizer.png")
  hook = task_report(config.task.name) if config is not None else None
  extra = hook(workdir, records, config) if hook is not None else []
  print(f"wrote {workdir}/" + ", ".join(["summary.md", *plots, *extra]))


HALVING_COMPARISON = "halving_vs_full.md"


def halving_comparison_markdown(
  halved_dir: pathlib.Path, full_dir: pathlib.Path, timing_dir: pathlib.Path | None = None
) -> str:
  """A run with successive halving beside the same grid run in full: per setting, the ε each
  chose, and where they differ what the halved choice costs, measured in the full run (the
  full run's final value at halving's ε less its value at its own best ε: on CPU the two runs'
  trajectories are the same up to each stop); then the compute and the wall time of each."""
  from nesterov_jax.engine.halving import comparable
  from nesterov_jax.engine.results import _protocol

  halved, _ = load_run(halved_dir)
  full, _ = load_run(full_dir)
  configs = [files.read_json(pathlib.Path(d) / "config.json") for d in (halved_dir, full_dir)]
  a, b = (_protocol({k: v for k, v in comparable(c).items() if k != "halving"}) for c in configs)
  differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
  by = selection_key(full)
  hparams = hparam_keys(full)
  value_in_full = {(setting(r, hparams), r["learning_rate"], r["seed"]): r[by] for r in full}
  best_full = {setting(s, hparams): s for s in select_best(full)}
  lines = [
    f"# Successive halving against the full grid: {halved[0]['task']}",
    "",
    f"Halving: `{halved_dir}`. {provenance.records_markdown(halved).strip()}",
    "",
    f"Full grid: `{full_dir}`. {provenance.records_markdown(full).strip()}",
    "",
    (
      "The two runs share their protocol but for halving."
      if not differ
      else f"The runs' configs differ, besides halving, in: {', '.join(differ)}."
    )
    + f" Each setting's ε is chosen by `{by}` (mean over seeds); where the two choose differently, "
    f"the cost is the full run's `{by}` at halving's ε less at its own.",
    "",
    "| setting | full: best ε | full: value | halving: best ε | halving: value | same ε | cost in the full run |",
    "|---|---|---|---|---|---|---|",
  ]
  same = 0
  for s in select_best(halved):
    key = setting(s, hparams)
    f = best_full.get(key)
    if f is None:
      continue
    lr_h, lr_f = s["learning_rate"], f["learning_rate"]
    show = lambda lr: "all diverged" if lr is None else f"{lr:g}"
    agree = lr_h == lr_f
    same += agree
    if agree or lr_h is None or lr_f is None:
      cost = "—" if agree else "n/a"
    else:
      at_h = np.mean([v for (k, lr, _), v in value_in_full.items() if k == key and lr == lr_h])
      cost = f"{at_h - f['selection_value']:+.4g} ({at_h:.4g} against {f['selection_value']:.4g})"
    value = lambda x: "—" if x.get("selection_value") is None else f"{x['selection_value']:.4g}"
    lines.append(
      f"| {label(s, mu_name(halved, halved_dir))} | {show(lr_f)} | {value(f)} | {show(lr_h)} | "
      f"{value(s)} | {'yes' if agree else '**no**'} | {cost} |"
    )
  ran = sum(min(r.get("stopped_at", r["num_updates"]), r["num_updates"]) for r in halved)
  whole = sum(r["num_updates"] for r in full)
  wall_h, wall_f = halved[0]["provenance"]["wall_time_s"], full[0]["provenance"]["wall_time_s"]
  lines += [
    "",
    f"Same ε in {same} of {len(best_full)} settings. Config-updates: {ran:,} against {whole:,} "
    f"({ran / whole:.0%}). Wall time: {wall_h / 60:.1f} min against {wall_f / 60:.1f} min "
    f"({wall_h / wall_f:.0%}; each run's own, on the machine its provenance names: a ratio of "
    "two sessions, not one measurement).",
  ]
  own = full_grid_wall_estimate(halved_dir)
  estimate = own if own is not None else full_grid_wall_estimate(halved_dir, timing_dir)
  if estimate is not None:
    source = (
      "its own chunks before the grid first shrank"
      if own is not None
      else f"the full grid's chunks in `{timing_dir}`, a short run of it on the same machine "
      f"({provenance.records_markdown(files.read_json(pathlib.Path(timing_dir) / 'results.json')).strip()})"
    )
    lines.append(
      f"On the halving run's machine: {wall_h / 60:.1f} min against {estimate / 60:.1f} min for the "
      f"whole grid run to the end ({wall_h / estimate:.0%}), estimated from {source}: the halving run's "
      "first chunk (which pays the compile) as it ran, every later update at the full grid's mean time per "
      "update after its first chunk, evaluations included."
    )
  return "\n".join(lines + [""])


def full_grid_wall_estimate(
  halved_dir: pathlib.Path, timing_dir: pathlib.Path | None = None
) -> float | None:
  """What the halving run in ``halved_dir`` would have taken with every point run to the end,
  on its own machine: its wall time up to the end of its first chunk, plus every later update at
  the full grid's mean time per update after its first chunk (the first pays the compile;
  evaluations count where they fell), plus the run's own time after its last chunk.

  The full grid's chunk times come from the halving run itself, from its chunks before the grid
  first shrank, or, where that leaves fewer than two (points that diverge in the first chunk
  leave at its end), from ``timing_dir``: a run of the same full grid on the same machine, of
  three chunks or more (its first, which pays the compile, is left out). None when neither has two full-size chunks or halving.json is missing.
  """
  summary_path = pathlib.Path(halved_dir) / "halving.json"
  if not summary_path.is_file():
    return None
  layouts = files.read_json(summary_path).get("layouts", [])
  if len(layouts) < 2:
    return None
  wall = _chunk_walls(halved_dir)
  steps = sorted(wall)
  full_size = [s for s in steps if 0 < s <= layouts[1]["from"]]

  def per_update(walls: dict[int, float], logged: list[int]) -> float | None:
    return (
      (walls[logged[-1]] - walls[logged[0]]) / (logged[-1] - logged[0])
      if len(logged) >= 2
      else None
    )

  rate = per_update(wall, full_size)
  if rate is None and timing_dir is not None:
    timed = _chunk_walls(timing_dir)
    rate = per_update(timed, [s for s in sorted(timed) if s > 0])
  if rate is None:
    return None
  last = files.read_json(pathlib.Path(halved_dir) / "results.json")[0]["provenance"]["wall_time_s"]
  return float(wall[full_size[0]] + (steps[-1] - full_size[0]) * rate + last - wall[steps[-1]])


def _chunk_walls(workdir: pathlib.Path) -> dict[int, float]:
  """Each logged step's wall time, from a run directory's metrics.jsonl."""
  lines = files.read_json_lines(pathlib.Path(workdir) / "metrics.jsonl")
  return {m["step"]: m["wall_s"] for m in lines if "wall_s" in m}
