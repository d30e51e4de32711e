"""The paper's findings as data: each claim of Sections 3-5 that results/README.md discusses,
as an ordering of two settings that ``nesterov-jax report`` evaluates over paired seeds
(:mod:`nesterov_jax.engine.findings`) and writes to ``findings.md``.

A claim names its settings in the paper's words; the paper's two numbers stand beside it, so
``findings.md`` also says where the paper's own table does not show the ordering. Claims about
optimizers the paper did not run (Adam, RMSProp) are marked as ours.
"""

from __future__ import annotations

import pathlib

import ml_collections

from nesterov_jax.engine import files
from nesterov_jax.engine.findings import Finding, IgnoresInput, Setting, evaluate_all, markdown
from nesterov_jax.engine.optimizers import family
from nesterov_jax.paper import numbers as paper
from nesterov_jax.paper import rnn
from nesterov_jax.paper.optimizers import PAPER_MOMENTUM

SGD = Setting("SGD", {"optimizer": PAPER_MOMENTUM, "mu_max": 0.0})
NAMES = {"nag": "NAG", "cm": "CM"}
OURS = "ours (not in the paper)"


def momentum(optimizer: str, mu: float, mu_name: str = "μ_max", **fields) -> Setting:
  return Setting(
    f"{NAMES[optimizer]} {mu_name} {mu:g}", {"optimizer": optimizer, "mu_max": mu, **fields}
  )


def best_of(optimizer: str) -> Setting:
  """An optimizer's best setting over its μ (Adam & co. run at μ_max 0 only)."""
  return Setting(f"best {NAMES.get(optimizer, optimizer)}", {"optimizer": optimizer})


def _below(
  a: Setting, b: Setting, source: str, paper_values=None, claim: str | None = None
) -> Finding:
  return Finding(claim or f"{a.name} below {b.name}", a, b, source, paper_values)


def autoencoder_findings(task: str) -> list[Finding]:
  """Tables 1 and 2 on one autoencoder."""
  table = paper.TABLE1[task]
  mus = (0.9, 0.99, 0.995, 0.999)
  out = []
  for opt in PAPER_MOMENTUM:  # momentum far below SGD
    out += [
      _below(momentum(opt, mu), SGD, "Table 1", (table[(opt, mu)], table["sgd"])) for mu in mus
    ]
  for opt in PAPER_MOMENTUM:  # a higher μ_max is better
    out += [
      _below(momentum(opt, hi), momentum(opt, lo), "Table 1", (table[(opt, hi)], table[(opt, lo)]))
      for lo, hi in zip(mus, mus[1:])
    ]
    # and the most quoted case of it, the largest against 0.99 (0.995 between them may be off)
    out.append(
      _below(
        momentum(opt, 0.999),
        momentum(opt, 0.99),
        "Table 1",
        (table[(opt, 0.999)], table[(opt, 0.99)]),
      )
    )
  out += [
    _below(
      momentum("nag", mu), momentum("cm", mu), "Table 1", (table[("nag", mu)], table[("cm", mu)])
    )
    for mu in mus
  ]  # NAG at or below CM
  before, after = paper.TABLE2[task]
  paper_best_nag = min(mus, key=lambda mu: table[("nag", mu)])  # the one row Table 2 reports
  for opt in PAPER_MOMENTUM:  # the last 1000 updates at μ = 0.9 lower the error
    for mu in mus[1:]:  # at μ_max 0.9 those updates keep μ where it was: no claim to test
      s = momentum(opt, mu)
      out.append(
        Finding(
          f"{s.name}: the last 1000 updates at μ = 0.9 lower the error",
          s,
          s._replace(metric="train_error_before_finetune"),
          "Table 2",
          (after, before) if (opt, mu) == ("nag", paper_best_nag) else None,
        )
      )
  out += _modern_findings()
  return out


def init_scale_findings() -> list[Finding]:
  """Table 3: the sparse initialization at scale 1 is best (the run's one NAG setting)."""
  one = Setting("init scale 1", {"optimizer": "nag", "init_scale": 1.0})
  return [
    _below(
      one,
      Setting(f"init scale {s:g}", {"optimizer": "nag", "init_scale": s}),
      "Table 3",
      (paper.TABLE3[1.0], paper.TABLE3[s]),
    )
    for s in (0.25, 0.5, 2.0, 4.0)
  ]


def rnn_findings(problem: str) -> list[Finding]:
  """Table 5 on one problem (μ0: the momentum after Section 4's 1000 updates at 0.9)."""
  table = paper.TABLE5[problem]
  mus = (0.9, 0.98, 0.995)
  zero = SGD._replace(name="μ0 = 0")
  out = []
  for opt in PAPER_MOMENTUM:  # momentum trains what μ0 = 0 does not
    out += [
      _below(momentum(opt, mu, "μ0"), zero, "Table 5", (table[(opt, mu)], table["sgd"]))
      for mu in mus
    ]
  out += [
    _below(
      momentum("nag", mu, "μ0"),
      momentum("cm", mu, "μ0"),
      "Table 5",
      (table[("nag", mu)], table[("cm", mu)]),
    )
    for mu in mus
  ]
  for opt in PAPER_MOMENTUM:  # a larger μ0 helps
    out += [
      _below(
        momentum(opt, 0.995, "μ0"),
        momentum(opt, mu, "μ0"),
        "Table 5",
        (table[(opt, 0.995)], table[(opt, mu)]),
      )
      for mu in (0.9, 0.98)
    ]
  return out + _modern_findings()


def _modern_findings() -> list[Finding]:
  """The paper's methods at their best against Adam and RMSProp at theirs."""
  return [
    _below(best_of(ours), best_of(other), OURS)
    for ours in ("nag", "cm")
    for other in ("adam", "rmsprop")
  ]


def findings_for(task: str, config: dict) -> list[Finding]:
  """Every finding the paper (and our extra columns) make about ``task``'s runs."""
  if task in paper.TABLE1:
    if len(config["grid"].get("init_scale", [1.0])) > 1:
      return init_scale_findings()
    return autoencoder_findings(task)
  problem = config.get("task", {}).get("problem")
  if problem in paper.TABLE5:
    return rnn_findings(problem)
  return []


def ignores_input(config: dict) -> IgnoresInput | None:
  """Memorization only: whether a run ended at the errors of a fixed output string on both
  evaluation sets (``rnn.fixed_strings_at``), that is, predicts without reading its input.
  Two such runs tie in a finding, whichever strings they settled on."""
  task = config.get("task", {})
  if task.get("problem") not in rnn.MEMORY:
    return None
  task = ml_collections.ConfigDict(task)
  return lambda r: (
    not r["diverged"]
    and "final_test_error" in r
    and bool(rnn.fixed_strings_at(task, r["final_train_error"], r["final_test_error"]))
  )


def write_findings(workdir: pathlib.Path, records: list[dict], config: dict) -> list[str]:
  """Writes ``findings.md`` for every run of a task the paper makes findings about (one whose
  settings none of them can compare, an edge run or a run of more seeds, says so and which
  settings it holds: the folder that merges it has the verdicts); returns the names written."""
  findings = findings_for(config["task"]["name"], config)
  if not findings:
    return []
  files.write_text(
    workdir / "findings.md",
    markdown(
      evaluate_all(findings, records, ignores_input(config)),
      records,
      f"{records[0]['task']}: the paper's findings on this run",
      considered=len(findings),
      mu_name=family(records[0]["optimizer"]).mu_name(ml_collections.ConfigDict(config)),
    ),
  )
  return ["findings.md"]


def hf_findings(task: str) -> list[Finding]:
  """Section 5 on one autoencoder, over an hf experiment's runs joined into one record set
  (each record's optimizer named by its run: "classic", "hybrid", "nag")."""
  others = paper.TABLE1_OTHERS[task]
  nag_best = min(v for k, v in paper.TABLE1[task].items() if k[0] == "nag")
  hybrid, classic = (
    Setting("HF†", {"optimizer": "hybrid"}),
    Setting("HF*", {"optimizer": "classic"}),
  )
  nag = Setting("NAG (its run's compute)", {"optimizer": "nag"})
  return [
    _below(hybrid, classic, "Table 1 (§5)", (others["HF†"], others["HF*"])),
    _below(hybrid, nag, "Table 1 (§5)", (others["HF†"], nag_best)),
  ]
