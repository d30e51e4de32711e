"""Claims about a run's settings, written once as data and evaluated over paired seeds.

A :class:`Finding` says "setting A ends below setting B" (lower error is better). Each
setting is taken at its best ε (:func:`results.select_best`), and the two are compared seed
by seed: two settings run with the same seed start from the same initialization and see
the same minibatches, so a per-seed comparison has less noise than two means. The verdict
follows :data:`RULE`, which is written here once and printed in every ``findings.md``.

Which findings a run is held to is its task's business (a task's ``report`` hook writes
them); a finding whose settings the run lacks is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from nesterov_jax.engine import provenance
from nesterov_jax.engine.results import label, per_seed_records, select_best

HOLDS_FRACTION = 0.75
RULE = (
  "A claim \"A below B\" **holds** when A's mean over the seeds both settings ran is below "
  f"B's and A is below B in at least {HOLDS_FRACTION:.0%} of those paired seeds (rounded up); "
  "it **does not** when B is below A by the same test; otherwise it is **mixed**. A paired seed "
  "where the two end equal (both left at the same plateau, say) counts for neither, and so does one "
  "where both end at the errors of an output that ignores the input (on memorization, a fixed "
  "output string: which one a guessing run settles on is chance, not an ordering). Each setting "
  "is at its best ε. A verdict on one seed (n = 1) is that seed's ordering, not a finding."
)


class Setting(NamedTuple):
  """The summaries of ``select_best`` whose fields match ``fields`` (a value, or a tuple of
  allowed values); several matching means the best of them (the lowest mean). ``metric``:
  which record field is compared; ``name``: how the claim calls it."""

  name: str
  fields: Mapping[str, Any]
  metric: str = "final_train_error"


class Finding(NamedTuple):
  claim: str  # in words: "A below B", in the task's terms
  lower: Setting  # the setting claimed to end lower
  higher: Setting
  source: str = ""  # where it comes from (a table, a section)
  paper: tuple[float, float] | None = None  # the published numbers for lower and higher


class Evaluation(NamedTuple):
  finding: Finding
  verdict: str  # holds | does not | mixed
  seeds: tuple[int, ...]  # the paired seeds
  wins: int  # paired seeds in which lower < higher
  losses: int  # paired seeds in which higher < lower (ties count for neither)
  lower_mean: float
  higher_mean: float
  lower_lr: float
  higher_lr: float
  blind: int = 0  # paired seeds tied because both runs ignore their input


def _matches(summary: dict, fields: Mapping[str, Any]) -> bool:
  return all(summary.get(k) in (v if isinstance(v, tuple) else (v,)) for k, v in fields.items())


def resolve(records: list[dict], setting: Setting, best: list[dict] | None = None) -> dict | None:
  """The summary (at its best ε) of ``setting`` in ``records``: the lowest-mean match, or
  None when nothing that trained matches (or the run did not measure its metric)."""
  candidates = [
    s
    for s in (best if best is not None else select_best(records))
    if s["learning_rate"] is not None and _matches(s, setting.fields) and setting.metric in s
  ]
  return min(candidates, key=lambda s: s[setting.metric], default=None)


def verdict(wins: int, losses: int, n: int, lower_mean: float, higher_mean: float) -> str:
  """:data:`RULE` as code: ``wins`` paired seeds of ``n`` where A is below B, ``losses`` where
  B is below A (a tie is neither)."""
  need = math.ceil(HOLDS_FRACTION * n)
  if lower_mean < higher_mean and wins >= need:
    return "holds"
  if higher_mean < lower_mean and losses >= need:
    return "does not"
  return "mixed"


IgnoresInput = Callable[[dict], bool]


def evaluate(
  finding: Finding,
  records: list[dict],
  best: list[dict] | None = None,
  ignores_input: IgnoresInput | None = None,
) -> Evaluation | None:
  """``finding`` on ``records``, over the seeds both settings ran at their best ε; None when
  the run lacks a setting, or the two share no seed. ``ignores_input(record)``: whether a run
  ended where a model that ignores its input ends (the task's to say); a paired seed where
  both do is a tie, whatever their two errors."""
  best = best if best is not None else select_best(records)
  a, b = resolve(records, finding.lower, best), resolve(records, finding.higher, best)
  if a is None or b is None:
    return None
  lower, higher = per_seed_records(records, a), per_seed_records(records, b)
  seeds = tuple(sorted(set(lower) & set(higher)))
  if not seeds or (a is b and finding.lower.metric == finding.higher.metric):
    return None
  x = np.array([lower[s][finding.lower.metric] for s in seeds])
  y = np.array([higher[s][finding.higher.metric] for s in seeds])
  # Fine-tuning claims compare one record with itself: a run cannot tie with itself by guessing.
  blind = np.array(
    [
      ignores_input is not None
      and lower[s] is not higher[s]
      and ignores_input(lower[s])
      and ignores_input(higher[s])
      for s in seeds
    ],
    dtype=bool,
  )
  wins, losses = int(np.sum((x < y) & ~blind)), int(np.sum((y < x) & ~blind))
  return Evaluation(
    finding,
    verdict(wins, losses, len(seeds), float(x.mean()), float(y.mean())),
    seeds,
    wins,
    losses,
    float(x.mean()),
    float(y.mean()),
    a["learning_rate"],
    b["learning_rate"],
    int(blind.sum()),
  )


def evaluate_all(
  findings: list[Finding], records: list[dict], ignores_input: IgnoresInput | None = None
) -> list[Evaluation]:
  best = select_best(records)
  return [e for e in (evaluate(f, records, best, ignores_input) for f in findings) if e is not None]


def distinct(a: float, b: float, digits: int = 3, most: int = 6) -> tuple[str, str]:
  """``a`` and ``b`` to ``digits`` significant figures, or more (up to ``most``) where they
  would print alike: a verdict on 1.2101 against 1.2134 must not read "1.21 below 1.21"."""
  for d in range(digits, most + 1):
    x, y = f"{a:.{d}g}", f"{b:.{d}g}"
    if x != y:
      break
  return x, y


def _paper(e: Evaluation) -> str:
  if e.finding.paper is None:
    return "—"
  a, b = e.finding.paper
  shows = "shows it" if a < b else ("a tie" if a == b else "the reverse")
  return f"{a:g} vs {b:g} ({shows})"


def markdown(
  evaluations: list[Evaluation],
  records: list[dict],
  title: str,
  considered: int | None = None,
  mu_name: str = "μ_max",
) -> str:
  """``findings.md``: each finding's verdict, paired seeds, means and the paper's numbers.
  Where none applies, it says which settings the run holds (``mu_name``: what the run's μ_max
  is, as in its report) and how many findings were tried (``considered``)."""
  seeds = sorted({s for e in evaluations for s in e.seeds})
  lines = [
    f"# {title}",
    "",
    provenance.records_markdown(records),
    RULE,
    "",
    f"Seeds compared: {', '.join(map(str, seeds)) or 'none'}. Written by `nesterov-jax report` "
    "from this folder's results.json; the numbers are the run's, never retyped.",
    "",
    "| claim | source | verdict | paired seeds with A below B | A: mean (ε) | B: mean (ε) | paper: A vs B |",
    "|---|---|---|---|---|---|---|",
  ]
  for e in evaluations:
    f = e.finding
    n = len(e.seeds)
    what = f"**{e.verdict}**" + (" (n = 1)" if n == 1 else "")
    ties = n - e.wins - e.losses
    blind = f", {e.blind} of them both ignoring the input" if e.blind else ""
    tied = f" ({ties} tied{blind})" if ties else ""
    a, b = distinct(e.lower_mean, e.higher_mean)
    lines.append(
      f"| {f.claim} | {f.source} | {what} | {e.wins} of {n}{tied} | {a} ({e.lower_lr:g}) | "
      f"{b} ({e.higher_lr:g}) | {_paper(e)} |"
    )
  if not evaluations:
    held = ", ".join(dict.fromkeys(label(r, mu_name) for r in records))
    tried = f"none of the {considered} findings" if considered else "no finding"
    lines += [
      "| (no finding applies to this run's settings) | | | | | | |",
      "",
      f"This run holds {held}: {tried} on this task compares two settings that both ran here "
      "and share a seed. A run of one edge or of more seeds is read in the folder that merges it "
      "with the rest of its protocol (`nesterov-jax merge`).",
    ]
  return "\n".join(lines) + "\n"
