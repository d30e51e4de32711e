"""Reading a sweep's results: records, metrics, and the paper's choice of learning rate."""

from __future__ import annotations

import collections
import json
import pathlib

import numpy as np

CORE = ("task", "optimizer", "mu_max", "learning_rate", "seed")


METRICS, RESULTS = "metrics.jsonl", "results.json"


def metric_lines(workdir: pathlib.Path) -> list[str]:
  """The run's metrics.jsonl, one JSON text per chunk ([] before the first chunk)."""
  path = pathlib.Path(workdir) / METRICS
  return [line for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def load_metrics(workdir: pathlib.Path) -> list[dict]:
  return [json.loads(line) for line in metric_lines(workdir)]


def load_run(workdir: pathlib.Path) -> tuple[list[dict], list[dict]]:
  """The run's records and its metrics lines; a clear error when the run is not complete."""
  results = pathlib.Path(workdir) / RESULTS
  if not results.exists():
    raise FileNotFoundError(f"{results} not found: is {workdir} a finished sweep's run directory?")
  return json.loads(results.read_text()), load_metrics(workdir)


def hparam_keys(records: list[dict]) -> list[str]:
  """The task's own grid axes: numeric fields besides the core ones and the outcomes."""
  skip = set(CORE) | {"diverged", "diverged_at", "num_updates", "precision", "data", "provenance",
                      "case_passes", "num_train", "selected_by"}
  return sorted(k for k in records[0] if k not in skip and not k.startswith(("final_", "train_error")))


def setting(record: dict, hparams: list[str]) -> tuple:
  return (record["optimizer"], record["mu_max"], *(record[k] for k in hparams))


def selection_key(records: list[dict]) -> str:
  """The outcome a run's ε is chosen by: ``final_train_error`` (the paper's rule) unless the
  run's config chose ``final_train_loss`` (recorded with every record as ``selected_by``)."""
  return records[0].get("selected_by", "final_train_error")


def select_best(records: list[dict]) -> list[dict]:
  """Per setting, the learning rate with the lowest mean over seeds of the run's selection
  key (:func:`selection_key`: the final training error, as the paper selects).

  A learning rate at which any seed diverged is not eligible (the paper reports settings
  that trained). Returns one summary per setting, with the mean and standard deviation
  over seeds of every ``final_*`` and ``train_error_before_finetune`` field, sorted by
  optimizer then μ_max; ``learning_rate`` is None when every rate diverged.
  """
  by = selection_key(records)
  hparams = hparam_keys(records)
  by_setting_lr = collections.defaultdict(list)
  for r in records:
    by_setting_lr[(setting(r, hparams), r["learning_rate"])].append(r)
  outcome_keys = [k for k in records[0] if k.startswith("final_") or k == "train_error_before_finetune"]
  best: dict[tuple, dict] = {}
  for (key, lr), group in by_setting_lr.items():
    summary = {"optimizer": key[0], "mu_max": key[1], **dict(zip(hparams, key[2:])),
               "learning_rate": lr, "seeds": len(group),
               "diverged": sum(r["diverged"] for r in group)}
    for k in outcome_keys:
      values = np.array([r[k] for r in group], np.float64)
      summary[k] = float(values.mean())
      summary[k + "_std"] = float(values.std())
    eligible = summary["diverged"] == 0 and np.isfinite(summary[by])
    incumbent = best.get(key)
    if incumbent is None or (eligible and (incumbent["learning_rate"] is None
                                           or summary[by] < incumbent[by])):
      best[key] = summary if eligible else {**summary, "learning_rate": None}
  return sorted(best.values(), key=lambda s: (s["optimizer"], s["mu_max"], *(s[k] for k in hparams)))
