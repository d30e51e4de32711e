"""Reading a sweep's results: records, metrics, and the paper's choice of learning rate."""

from __future__ import annotations

import collections
import json
import pathlib

import numpy as np

from nesterov_jax.engine import files

CORE = ("task", "optimizer", "mu_max", "learning_rate", "seed")


METRICS, RESULTS = "metrics.jsonl", "results.json"


def load_metrics(workdir: pathlib.Path) -> list[dict]:
  """The run's metrics.jsonl, one dict per chunk ([] before the first chunk); a line that does
  not parse is an error naming the file and the line."""
  path = pathlib.Path(workdir) / METRICS
  return files.read_json_lines(path) if path.exists() else []


def load_run(workdir: pathlib.Path) -> tuple[list[dict], list[dict]]:
  """The run's records and its metrics lines; a clear error when the run is not complete."""
  results = pathlib.Path(workdir) / RESULTS
  if not results.exists():
    raise FileNotFoundError(f"{results} not found: is {workdir} a finished sweep's run directory?")
  return files.read_json(results), load_metrics(workdir)


def hparam_keys(records: list[dict]) -> list[str]:
  """The task's own grid axes: numeric fields besides the core ones and the outcomes."""
  skip = set(CORE) | {
    "optimizer_args",
    "diverged",
    "diverged_at",
    "num_updates",
    "precision",
    "data",
    "provenance",
    "case_passes",
    "num_train",
    "selected_by",
    "stopped_at",
    "stopped_metric",
  }
  return sorted(
    k for k in records[0] if k not in skip and not k.startswith(("final_", "train_error"))
  )


def setting(record: dict, hparams: list[str]) -> tuple:
  return (record["optimizer"], record["mu_max"], *(record[k] for k in hparams))


def label(summary: dict, mu_name: str = "μ_max") -> str:
  """A setting in words, as its optimizer's family says it ("adam", "sgd, μ 0.9", ...);
  ``mu_name`` is what the grid's μ_max is in the run."""
  from nesterov_jax.engine.optimizers import label as family_label

  return family_label(summary["optimizer"], summary["mu_max"], mu_name)


def kind(summary: dict) -> str:
  """The algorithm a setting runs, in its family's words (several optimizer names of one
  family may run one algorithm at some μ_max)."""
  from nesterov_jax.engine.optimizers import family

  return family(summary["optimizer"]).kind(summary["optimizer"], summary["mu_max"])


def selection_key(records: list[dict]) -> str:
  """The outcome a run's ε is chosen by: ``final_train_error`` (the paper's rule) unless the
  run's config chose ``final_train_loss`` (recorded with every record as ``selected_by``)."""
  return records[0].get("selected_by", "final_train_error")


def tuning_seeds(records: list[dict]) -> dict[tuple, set[int]]:
  """Per setting, the seeds that chose its ε: those it ran at every one of its ε (the first
  runs of a protocol tune ε on seed 0; later runs add seeds at the chosen ε only). A setting
  that ran one ε chose nothing: its set is empty, and every seed is fresh."""
  hparams = hparam_keys(records)
  seeds_at = collections.defaultdict(lambda: collections.defaultdict(set))
  for r in records:
    seeds_at[setting(r, hparams)][r["learning_rate"]].add(r["seed"])
  return {
    key: set.intersection(*by_lr.values()) if len(by_lr) > 1 else set()
    for key, by_lr in seeds_at.items()
  }


def outcome_keys(records: list[dict]) -> list[str]:
  """The outcomes of the records: ``final_*`` and the errors at a family's milestones
  (``train_error_NAME``), in the order first seen. A milestone is recorded only where a run's
  grid held its family, so merged runs may differ in which they carry."""
  return list(
    dict.fromkeys(k for r in records for k in r if k.startswith(("final_", "train_error_")))
  )


def seed_statistics(values: list[float], seeds: list[int], fresh: set[int]) -> dict:
  """mean, std, min, max over seeds, and the mean over the ``fresh`` seeds (those that did not
  choose ε: free of the selection's optimism; None when there are none, or all are fresh)."""
  x = np.array(values, np.float64)
  fresh_x = np.array([v for v, s in zip(values, seeds) if s in fresh], np.float64)
  with np.errstate(
    invalid="ignore"
  ):  # a diverged seed's inf: the std is NaN, said without a warning
    std = float(x.std())
  return {
    "mean": float(x.mean()),
    "std": std,
    "min": float(x.min()),
    "max": float(x.max()),
    "fresh": float(fresh_x.mean()) if 0 < len(fresh_x) < len(x) else None,
  }


def stopped(record: dict) -> bool:
  """Whether successive halving stopped the point before the end (its finals are NaN)."""
  return record.get("stopped_at", record["num_updates"]) < record["num_updates"]


def select_best(records: list[dict]) -> list[dict]:
  """Per setting, the learning rate with the lowest mean of the run's selection key
  (:func:`selection_key`: the final training error, as the paper selects) over the seeds
  that chose ε (:func:`tuning_seeds`; all seeds where the setting ran one ε).

  A learning rate at which a seed that chose ε diverged, or was stopped early by successive
  halving (``stopped_at`` before ``num_updates``), is not eligible (the paper reports
  settings that trained, and a stopped point has no final value). Returns one summary per setting, sorted by optimizer then μ_max,
  with, for every outcome (:func:`outcome_keys`), its mean (``k``)
  over all the seeds run at that ε, ``k_std``, ``k_min``, ``k_max`` and ``k_fresh`` (the mean
  over the seeds that did not choose ε, or None); ``seeds`` (n), ``seed_list``,
  ``fresh_seeds`` and ``diverged`` (how many of them diverged). ``learning_rate`` is None
  when every rate diverged.
  """
  by = selection_key(records)
  hparams = hparam_keys(records)
  tuning = tuning_seeds(records)
  by_setting_lr = collections.defaultdict(list)
  for r in records:
    by_setting_lr[(setting(r, hparams), r["learning_rate"])].append(r)
  outcomes = outcome_keys(records)
  best: dict[tuple, dict] = {}
  for (key, lr), group in by_setting_lr.items():
    group = sorted(group, key=lambda r: r["seed"])
    seeds = [r["seed"] for r in group]
    choosers = [r for r in group if r["seed"] in tuning[key]] or group
    fresh = set(seeds) - tuning[key]
    summary = {
      "optimizer": key[0],
      "mu_max": key[1],
      **dict(zip(hparams, key[2:])),
      "learning_rate": lr,
      "seeds": len(group),
      "seed_list": seeds,
      "fresh_seeds": len(fresh) if tuning[key] else 0,
      "diverged": sum(r["diverged"] for r in group),
    }
    for k in outcomes:
      if any(
        k not in r for r in group
      ):  # an outcome some seeds' runs did not record has no statistics here
        continue
      stats = seed_statistics([r[k] for r in group], seeds, fresh if tuning[key] else set())
      summary.update(
        {k: stats["mean"], **{f"{k}_{name}": v for name, v in stats.items() if name != "mean"}}
      )
    selection = float(np.mean([r[by] for r in choosers]))
    eligible = not any(r["diverged"] or stopped(r) for r in choosers) and np.isfinite(selection)
    summary["selection_value"] = selection if eligible else None
    incumbent = best.get(key)
    if incumbent is None or (
      eligible and (incumbent["learning_rate"] is None or selection < incumbent["selection_value"])
    ):
      best[key] = summary if eligible else {**summary, "learning_rate": None}
  return sorted(
    best.values(), key=lambda s: (s["optimizer"], s["mu_max"], *(s[k] for k in hparams))
  )


def with_spread(summary: dict, key: str = "final_train_error", digits: int = 3) -> str:
  """A setting's value over seeds in words: "0.0008 (0.0003–0.0012, n = 4)", or "0.0008
  (n = 1)" for one seed; the mean over the seeds that did not choose ε follows where there
  are such seeds: "…; 3 fresh seeds: 0.0009"."""
  show = lambda v: f"{v:.{digits}g}"
  if summary["seeds"] == 1:
    return f"{show(summary[key])} (n = 1)"
  text = f"{show(summary[key])} ({show(summary[key + '_min'])}–{show(summary[key + '_max'])}, n = {summary['seeds']}"
  if summary.get(key + "_fresh") is not None:
    text += f"; {summary['fresh_seeds']} fresh: {show(summary[key + '_fresh'])}"
  return text + ")"


def per_seed_records(records: list[dict], summary: dict) -> dict[int, dict]:
  """A setting's records at its best ε (a :func:`select_best` summary), by seed."""
  hparams = hparam_keys(records)
  return {
    r["seed"]: r
    for r in records
    if setting(r, hparams) == setting(summary, hparams)
    and r["learning_rate"] == summary["learning_rate"]
  }


def per_seed(
  records: list[dict], summary: dict, key: str = "final_train_error"
) -> dict[int, float]:
  """A setting's values at its best ε (a :func:`select_best` summary), by seed."""
  return {seed: r[key] for seed, r in per_seed_records(records, summary).items()}


# Fields of config.json that may differ between runs merged into one table: the grid and its
# optimizers' fixed arguments (each record names its own), and how often a run evaluated and
# checkpointed (the evaluations they share are kept).
MERGEABLE = ("grid", "optimizer_args", "eval_every", "checkpoint_every")


def _how_fields(task_name: str) -> tuple[str, ...]:
  """Task fields that say how a run computed, not what (each task declares its own: the cases
  per evaluation batch, an RNN's unroll). Runs that differ only in them merge."""
  from nesterov_jax.engine import tasks

  try:
    return tasks.how_fields(task_name)
  except Exception:  # noqa: BLE001 -- a user's task no longer importable: the common ones
    return tasks.COMMON_HOW_FIELDS


def _protocol(config: dict) -> dict:
  """A run's config.json less what may differ between runs merged into one table."""
  from nesterov_jax.engine.halving import comparable

  out = {k: v for k, v in comparable(config).items() if k not in MERGEABLE + ("merged_from",)}
  if isinstance(out.get("task"), dict):
    how = _how_fields(str(out["task"].get("name")))
    out["task"] = {k: v for k, v in out["task"].items() if k not in how}
  return out


def merge_runs(workdirs: list[pathlib.Path], out: pathlib.Path) -> list[dict]:
  """Writes into ``out`` one run made of several finished runs of one protocol: e.g. more seeds
  run later, or a grid split over sessions or machines. Returns the merged records.

  The runs must agree on everything but their grids (task, data, updates, schedule,
  precision: every config field but ``MERGEABLE`` and the task's ``how_fields``) and share
  no grid point. The merged
  ``results.json`` keeps each record's own provenance; ``metrics.jsonl`` holds the steps
  every run logged, with each per-point list concatenated in the order of the records;
  ``config.json`` is the first run's, with the union of the grids as ``grid.points`` and
  ``grid.seeds`` and the runs' folders as ``merged_from``.
  """
  configs = []
  for w in workdirs:
    path = pathlib.Path(w) / "config.json"
    if not path.exists():
      raise FileNotFoundError(f"{path} not found: is {w} a run directory?")
    configs.append(files.read_json(path))
  first = _protocol(configs[0])
  for w, c in zip(workdirs[1:], configs[1:]):
    if _protocol(c) != first:
      c = _protocol(c)
      differ = sorted(k for k in set(c) | set(first) if c.get(k) != first.get(k))
      if (
        "task" in differ and isinstance(c.get("task"), dict) and isinstance(first.get("task"), dict)
      ):
        differ = [k for k in differ if k != "task"] + sorted(
          f"task.{k}"
          for k in set(c["task"]) | set(first["task"])
          if c["task"].get(k) != first["task"].get(k)
        )
      raise ValueError(
        f"{w} is not the same protocol as {workdirs[0]} (fields that differ: {', '.join(differ)})"
      )
  runs = [load_run(w) for w in workdirs]
  records = [r for recs, _ in runs for r in recs]
  keys = [
    (
      r["optimizer"],
      r["mu_max"],
      r["learning_rate"],
      r["seed"],
      *(r[h] for h in hparam_keys(records)),
    )
    for r in records
  ]
  if len(set(keys)) != len(keys):
    raise ValueError(
      "the runs share a grid point (optimizer, μ_max, ε, seed): merge runs of disjoint grids"
    )
  by_step = [{m["step"]: m for m in metrics} for _, metrics in runs]
  metrics = []
  for step in sorted(set.intersection(*(set(b) for b in by_step))):
    lines = [b[step] for b in by_step]
    shared = set.intersection(*(set(m) for m in lines)) - {"step", "wall_s"}
    metrics.append(
      {
        "step": step,
        "wall_s": max(m["wall_s"] for m in lines),
        **{k: [v for m in lines for v in m[k]] for k in sorted(shared)},
      }
    )
  config = dict(configs[0])
  config["grid"] = dict(config["grid"])
  config["grid"]["points"] = sorted(
    {(r["optimizer"], r["mu_max"], r["learning_rate"]) for r in records},
    key=lambda p: (p[0], p[1], -p[2]),
  )
  config["grid"]["seeds"] = sorted({r["seed"] for r in records})
  config["merged_from"] = [str(w) for w in workdirs]
  out = pathlib.Path(out)
  out.mkdir(parents=True, exist_ok=True)
  files.write_json(out / "config.json", config, indent=2)
  files.write_text(out / METRICS, "".join(json.dumps(m) + "\n" for m in metrics))
  files.write_json(out / RESULTS, records)
  return records
