"""The paper's tables with our numbers beside the published ones: table1.md, table2.md,
table3.md (autoencoders) and table5.md (RNNs), written by ``nesterov-jax report``.

Every line states the protocol difference (updates, data, learning rates) next to the
numbers. A cell reads ``ours (paper)``; ours is the final training error at the best
learning rate of that column, as the paper selects it.
"""

from __future__ import annotations

import pathlib

import ml_collections

from nesterov_jax.engine import files, provenance
from nesterov_jax.paper import numbers as paper, rnn
from nesterov_jax.engine.results import label, select_best, with_spread
from nesterov_jax.paper.optimizers import (
  PAPER_MOMENTUM,
  PAPER_OPTIMIZERS,
  finetune_start,
  is_sgd,
  mu_reached_at,
)

TASK_TITLES = {"curves_ae": "Curves", "mnist_ae": "MNIST", "faces_ae": "Faces"}
HF_CONFIGS = {"curves_ae": "configs/hf_curves.py", "mnist_ae": "configs/hf_mnist.py"}


def _column(summary: dict) -> str | tuple:
  return "sgd" if is_sgd(summary) else (summary["optimizer"], summary["mu_max"])


def _label(column, mu_name: str = "μ_max") -> str:
  """A paper column's name; μ 0 as results.label names it ("SGD", or "μ0 = 0" on the RNNs'
  schedule), SGD with its μ said."""
  if column == "sgd":
    name = label({"optimizer": "nag", "mu_max": 0.0}, mu_name)
    return "SGD (μ = 0)" if name == "SGD" else name
  if column == "biases":
    return "biases"
  return f"{column[1]:g}{'N' if column[0] == 'nag' else 'M'}"


def _modern(best: dict) -> list[tuple]:
  """Columns of optimizers the paper did not run (Adam, RMSProp, ...: any optax alias or
  factory on the grid), after the paper's: their own best ε, marked as ours alone."""
  return sorted(c for c in best if isinstance(c, tuple) and c[0] not in PAPER_OPTIMIZERS)


def _modern_label(column: tuple) -> str:
  return label({"optimizer": column[0], "mu_max": column[1]}) + " (not in the paper)"


def _ours(summary: dict | None, key: str = "final_train_error") -> str:
  """Our value of a column: the mean over its seeds at its best ε, with min–max and n."""
  if summary is None:
    return "—"
  if summary["learning_rate"] is None:
    return "all ε diverged"
  return with_spread(summary, key)


def _modern_cell(summary: dict) -> str:
  return f"**{_ours(summary)}**"


def _fresh_line(best: dict, columns, mu_name: str = "μ_max") -> list[str]:
  """A line for the columns with seeds that did not choose ε: their mean, free of the
  optimism of choosing ε on seed 0 (none when every seed chose it)."""
  fresh = [
    (c, best[c])
    for c in columns
    if c in best and best[c].get("final_train_error_fresh") is not None
  ]
  if not fresh:
    return []
  return [
    "",
    "Mean over the seeds that did not choose ε (ε was chosen on the others): "
    + ", ".join(
      f"{_label(c, mu_name) if not isinstance(c, tuple) or c[0] in PAPER_OPTIMIZERS else label(s)} "
      f"{s['final_train_error_fresh']:.3g} (n = {s['fresh_seeds']})"
      for c, s in fresh
    )
    + ".",
  ]


def _head(first: str, columns, modern: list[tuple], mu_name: str = "μ_max") -> list[str]:
  """A table's header and separator: the paper's columns, then the optimizers it did not run."""
  return [
    f"| {first} | "
    + " | ".join([_label(c, mu_name) for c in columns] + [_modern_label(c) for c in modern])
    + " | protocol: ours vs paper |",
    "|---" * (len(columns) + len(modern) + 2) + "|",
  ]


def _best_learning_rates(best: dict, columns, modern: list[tuple], mu_name: str = "μ_max") -> str:
  return (
    "Best learning rate per column (ours): "
    + ", ".join(
      f"{_label(c, mu_name) if c in columns else label(best[c])} ε = {best[c]['learning_rate']:g}"
      for c in [*columns, *modern]
      if c in best and best[c]["learning_rate"] is not None
    )
    + "."
  )


def _num(x: float | None) -> str:
  return "—" if x is None else f"{x:.3g}"


def _ratios(best: dict, columns, paper_values: dict) -> list[str]:
  """A line with each column's mean (at its best ε) over the paper's number, where both exist:
  how far our shortened runs end from the paper's."""
  ratios = [
    f"{_label(c)} {best[c]['final_train_error'] / paper_values[c]:.3g}"
    for c in columns
    if c in best and best[c]["learning_rate"] is not None and paper_values.get(c)
  ]
  if not ratios:
    return []
  return ["", "Ours ÷ the paper's, per column (1 = the paper's number): " + ", ".join(ratios) + "."]


def _our_protocol(config: dict, records: list[dict]) -> str:
  s = config["schedule"]
  if config["grid"].get("points"):  # each setting at the ε a pilot chose (and its neighbours)
    lrs = sorted({p[2] for p in config["grid"]["points"]}, reverse=True)
    text = (
      f"{config['num_updates']:,} updates, ε best of those each setting ran at (summary.md lists "
      f"them; ε ∈ {{{', '.join(f'{lr:g}' for lr in lrs)}}} overall)"
    )
  else:
    lrs = ", ".join(f"{lr:g}" for lr in config["grid"]["learning_rates"])
    text = f"{config['num_updates']:,} updates, ε best of {{{lrs}}}"
  if s["kind"] == "eq5":
    text += f", Eq. 5 period {s['period']:.3g}, last {s['finetune_steps']} updates at μ = 0.9"
  else:
    seeds = len(config["grid"]["seeds"])
    text += (
      f", μ = 0.9 for {s['warmup_steps']} updates then μ0, {seeds} seed{'s' if seeds > 1 else ''}"
    )
  return text + f"; data: {records[0]['data']}"


def _header(title: str, records: list[dict], ours: str = "final training error at θ") -> list[str]:
  return [
    f"# {title}",
    "",
    provenance.records_markdown(records),
    f"Cells read **ours** (paper). Ours: {ours}, at the column's best learning rate, the mean "
    f"over the seeds run there (min–max, n = seeds), matmul precision `{records[0]['precision']}`. "
    "The paper's Table 5 is a mean over 4 seeds; its Tables 1–3 do not say. The protocol "
    "difference is stated on each line.",
    "",
  ]


def momentum_reached(records: list[dict], config: dict) -> list[str]:
  """For a run on Eq. 5's schedule, a line saying at which update μ first reaches each μ_max
  the run holds, and for how many updates it then held there before the last updates at
  μ = 0.9, or that the run ended first (its column never trained at that μ)."""
  c = ml_collections.ConfigDict(config)
  mus = sorted(
    {r["mu_max"] for r in records if r["optimizer"] in PAPER_MOMENTUM and r["mu_max"] > 0}
  )
  if c.schedule.kind != "eq5" or not mus:
    return []
  start = finetune_start(c)
  end = start or c.num_updates
  stop = (
    f"update {start:,}, where the last {c.num_updates - start:,} at μ = 0.9 begin"
    if start
    else f"the run's end, update {end:,}"
  )
  parts = [
    f"{mu:g} at update {at:,}, then held for {end - at:,} updates"
    if at < end
    else f"{mu:g} at update {at:,}, past {stop}: that column never ran at μ = {mu:g}"
    for mu, at in ((mu, mu_reached_at(c, mu)) for mu in mus)
  ]
  finetune = f"; the last {c.num_updates - start:,} updates at μ = 0.9" if start else ""
  return [
    "",
    f"Eq. 5 (period {c.schedule.period:g}{finetune}) first gives μ = μ_max at: "
    + "; ".join(parts)
    + ".",
  ]


def table1(records: list[dict], config: dict) -> str:
  task = records[0]["task"]
  best = {_column(s): s for s in select_best(records)}
  cells = []
  for column in paper.TABLE1_COLUMNS:
    cells.append(f"**{_ours(best.get(column))}** ({_num(paper.TABLE1[task][column])})")
  modern = _modern(best)
  cells += [_modern_cell(best[c]) for c in modern]
  others = paper.TABLE1_OTHERS[task]
  lines = _header(f"Table 1, {TASK_TITLES[task]} row: training squared error", records)
  lines += [
    *_head("task", paper.TABLE1_COLUMNS, modern),
    f"| {TASK_TITLES[task]} | "
    + " | ".join(cells)
    + f" | ours: {_our_protocol(config, records)}; paper: {paper.PROTOCOL['ae']}, "
    f"{paper.PAPER_DATA[task]} |",
    "",
    _best_learning_rates(best, paper.TABLE1_COLUMNS, modern),
    *_ratios(best, paper.TABLE1_COLUMNS, paper.TABLE1[task]),
    *_fresh_line(best, [*paper.TABLE1_COLUMNS, *modern]),
    *momentum_reached(records, config),
    "",
    "The paper's other columns, for reference: "
    + ", ".join(f"{k} {_num(v)}" for k, v in others.items())
    + (
      f"; HF* and HF† are run by `{HF_CONFIGS[task]}` (its table1.md), SGD_C is not run here."
      if task in HF_CONFIGS
      else " (not run here)."
    ),
  ]
  return "\n".join(lines) + "\n"


def table2(records: list[dict], config: dict) -> str:
  task = records[0]["task"]
  nag = [
    s
    for s in select_best(records)
    if s["optimizer"] == "nag" and s["mu_max"] > 0 and s["learning_rate"] is not None
  ]
  before, after = paper.TABLE2[task]
  lines = _header(
    f"Table 2, {TASK_TITLES[task]}: NAG before → after the low-momentum finetuning", records
  )
  lines += [
    "| task | NAG μ_max (best ε) | ours: before → after | paper (best NAG): before → after "
    "| protocol: ours vs paper |",
    "|---|---|---|---|---|",
  ]
  if not nag:
    lines.append(f"| {TASK_TITLES[task]} | — | no NAG point trained | {before:g} → {after:g} | |")
  best_final = min(s["final_train_error"] for s in nag) if nag else None
  for s in nag:
    mark = " (our best)" if s["final_train_error"] == best_final else ""
    lines.append(
      f"| {TASK_TITLES[task]} | {s['mu_max']:g}{mark} (ε = {s['learning_rate']:g}) | "
      f"**{_ours(s, 'train_error_before_finetune')} → {_ours(s)}** | "
      f"{before:g} → {after:g} | ours: last {config['schedule']['finetune_steps']} of "
      f"{config['num_updates']:,} updates at μ = 0.9; paper: last 1000 of 750,000 |"
    )
  return "\n".join(lines) + "\n"


def table3(records: list[dict], config: dict) -> str:
  lines = _header(
    "Table 3: multiplier on the sparse initialization's scale, Curves, NAG "
    f"μ_max = {records[0]['mu_max']:g}",
    records,
  )
  lines += [
    "| init scale | ours (paper) | ours ÷ paper | best ε (ours) | protocol: ours vs paper |",
    "|---|---|---|---|---|",
  ]
  for s in sorted(select_best(records), key=lambda s: s["init_scale"]):
    lr = "all diverged" if s["learning_rate"] is None else f"{s['learning_rate']:g}"
    theirs = paper.TABLE3.get(s["init_scale"])
    ratio = (
      f"{s['final_train_error'] / theirs:.3g}" if theirs and s["learning_rate"] is not None else "—"
    )
    lines.append(
      f"| {s['init_scale']:g} | **{_ours(s)}** ({_num(theirs)}) | {ratio} | "
      f"{lr} | ours: {_our_protocol(config, records)}; paper: {paper.PROTOCOL['ae']}, "
      f"{paper.PAPER_DATA['curves_ae']} |"
    )
  return "\n".join(lines) + "\n"


def table5(records: list[dict], config: dict) -> str:
  problem = config["task"]["problem"]
  best = {_column(s): s for s in select_best(records)}
  biases = rnn.biases_baseline(ml_collections.ConfigDict(config["task"]))
  cells = [f"**{_num(biases)}** ({_num(paper.TABLE5[problem]['biases'])})"]
  for column in paper.TABLE5_COLUMNS[1:]:
    cells.append(f"**{_ours(best.get(column))}** ({_num(paper.TABLE5[problem][column])})")
  modern = _modern(best)
  cells += [_modern_cell(best[c]) for c in modern]
  lines = _header(
    f"Table 5, {problem}: zero-one error",
    records,
    ours="the zero-one error on the fixed evaluation sequences after the last update",
  )
  lines += [
    *_head("problem", paper.TABLE5_COLUMNS, modern, "μ0"),
    f"| {problem} T = {config['task']['length']} | "
    + " | ".join(cells)
    + f" | ours: T = {config['task']['length']}, {_our_protocol(config, records)}; paper: "
    f"T = {paper.TABLE5_LENGTH[problem]}, {paper.PROTOCOL['rnn']} |",
    "",
    "\"biases\" (ours): the error of the constant prediction a model that learns only its "
    "output biases converges to (the average target), on the same sequences.",
    "",
    _best_learning_rates(best, paper.TABLE5_COLUMNS[1:], modern, "μ0"),
    *_fresh_line(best, [*paper.TABLE5_COLUMNS[1:], *modern], "μ0"),
    *fixed_outputs(records, config),
  ]
  return "\n".join(lines) + "\n"


def fixed_outputs(records: list[dict], config: dict) -> list[str]:
  """Memorization only: the errors of outputting one symbol at every step, and the runs (every
  grid point, not only the best ε) that ended at the errors of a fixed output string on both
  evaluation sets, that is, that predict without reading their input."""
  task = ml_collections.ConfigDict(config["task"])
  if task.get("problem") not in rnn.MEMORY:
    return []
  train, test = rnn.constant_symbol_errors(task), rnn.constant_symbol_errors(task, "test")
  n_values, n_pos = rnn.MEMORY[task.problem]
  tried = (
    f"all {n_values**n_pos} fixed strings tried"
    if rnn.tries_every_fixed_string(n_pos, n_values)
    else f"only the {n_values} constant strings tried: among all {n_values}^{n_pos} fixed "
    "strings some would match almost any error by chance"
  )
  at = []
  for r in (r for r in records if not r["diverged"]):
    found = rnn.fixed_strings_at(task, r["final_train_error"], r["final_test_error"])
    if found:
      at.append(
        f"{label(r, 'μ0')}, ε = {r['learning_rate']:g}, seed {r['seed']}: "
        + " or ".join("".join(str(k) for k in f) for f in found)
      )
  count = (
    f"{len(at)} of {len(records)} runs end at the errors of a fixed output string on both "
    f"sets ({tried}); they predict without reading their input:"
    if at
    else f"None of the {len(records)} runs ends at the errors of a fixed output string on both "
    f"sets ({tried})."
  )
  return [
    "",
    "Fixed outputs (ours): outputting symbol k at every step errs "
    + ", ".join(f"{k}: {a:.4f} / {b:.4f}" for k, (a, b) in enumerate(zip(train, test)))
    + " (training / test sequences). "
    + count,
    *(f"- {line}" for line in at),
  ]


def _hf_protocol(config: dict) -> str:
  """An HF run's phases in one line: updates, batches, CG cap, ζ, ε, classic or not."""
  grid = config["grid"]
  parts = []
  for p in config["hf"]["phases"]:
    decay = (
      "ζ = grid μ_max " + "/".join(f"{m:g}" for m in grid["mu_max"])
      if p["decay"] is None
      else f"ζ = {p['decay']:g}"
    )
    lr = (
      "/".join(f"{e:g}" for e in grid["learning_rates"])
      if p["learning_rate"] is None
      else f"{p['learning_rate']:g}"
    )
    lr = f"ε = {lr}" + (
      f"·{p['learning_rate_halving']}/({p['learning_rate_halving']} + t − t₀)"
      if p["learning_rate_halving"]
      else ""
    )
    batch = "all cases" if p["batch_size"] == 0 else f"{p['batch_size']} cases"
    kind = "line search, CG backtracking, preconditioner" if p["line_search"] else "no line search"
    kind += f", λ restarted at {p['damping']:g}" if p.get("damping") is not None else ""
    parts.append(
      f"{p['num_updates']} updates on {batch} (curvature on {p['curvature_batch_size']}), "
      f"≤ {p['max_cg_iterations']} CG steps, {decay}, {lr}, L2 {p['weight_cost']:g}, {kind}"
    )
  return "; then ".join(parts)


def table1_hf(runs: dict[str, tuple[list[dict], dict]]) -> str:
  """Table 1's HF columns (HF*, HF†) and NAG at about the same compute, from an ``hf``
  experiment's three runs: ``{"classic" | "hybrid" | "nag": (records, config)}``."""
  task = runs["classic"][0][0]["task"]
  columns = (
    ("classic", "HF* (Martens 2010)", paper.TABLE1_OTHERS[task]["HF*"]),
    ("hybrid", "HF† (momentum-like HF, §5)", paper.TABLE1_OTHERS[task]["HF†"]),
    (
      "nag",
      "NAG, about the same compute",
      min(v for k, v in paper.TABLE1[task].items() if k[0] == "nag"),
    ),
  )
  lines = [
    f"# Table 1, {TASK_TITLES[task]} row: the Hessian-free columns, and NAG at about the same compute",
    "",
  ]
  for name, title, _ in columns:
    lines += [
      f"**{title}** — " + provenance.markdown(runs[name][0][0]["provenance"], written_from_run=True)
    ]
  lines += [
    "Cells read **ours** (paper): the final training error (squared error summed over pixels, "
    "mean over the whole training set) of each run's best grid point; compute in passes "
    "through our training set (a gradient = 2 passes per case, a G·v product = 2). The "
    "NAG cell's paper number is its best NAG column (750,000 updates).",
    "",
    "| task | " + " | ".join(t for _, t, _ in columns) + " | protocol: ours vs paper |",
    "|---|---|---|---|---|",
  ]
  cells, protocol = [], []
  for (name, title, published), short in zip(columns, ("HF*", "HF†", "NAG")):
    records, config = runs[name]
    best = min(
      (s for s in select_best(records) if s["learning_rate"] is not None),
      key=lambda s: s["final_train_error"],
      default=None,
    )
    if best is None:
      cells.append(f"**all diverged** ({_num(published)})")
      continue
    point = min((r for r in records if not r["diverged"]), key=lambda r: r["final_train_error"])
    passes = point["case_passes"] / point["num_train"]
    cells.append(f"**{_ours(best)}** ({_num(published)}), {passes:,.0f} passes")
    how = (
      _hf_protocol(config)
      if name != "nag"
      else (
        f"μ_max {'/'.join(f'{m:g}' for m in config['grid']['mu_max'])}, {_our_protocol(config, records)}"
      )
    )
    protocol.append(f"{short}: {how}")
  lines.append(
    f"| {TASK_TITLES[task]} | "
    + " | ".join(cells)
    + f" | ours: {'. '.join(protocol)}. Paper: HF*: "
    f"{paper.HF_PROTOCOL['HF*']}; HF†: {paper.HF_PROTOCOL[task]}; NAG: {paper.PROTOCOL['ae']}; "
    f"{paper.PAPER_DATA[task]} |"
  )
  return "\n".join(lines) + "\n"


def write_paper_tables(workdir: pathlib.Path, records: list[dict], config: dict) -> list[str]:
  """Writes whichever of the paper's tables this run reproduces; returns their file names."""
  task = config["task"]["name"]
  written = {}
  if "hf" in config["grid"]["optimizers"]:
    pass  # an HF run's columns come from its hf experiment's three runs (table1_hf)
  elif task in paper.TABLE1:
    if len(config["grid"].get("init_scale", [1.0])) > 1:
      written["table3.md"] = table3(records, config)
    else:
      written["table1.md"] = table1(records, config)
      if any("train_error_before_finetune" in r for r in records):
        written["table2.md"] = table2(records, config)
  elif task == "rnn":
    written["table5.md"] = table5(records, config)
  for name, text in written.items():
    files.write_text(workdir / name, text)
  return list(written)
