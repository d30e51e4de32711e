"""results/README.md quotes no number that its results files do not hold.

The README is prose around our runs' numbers. This test reads every measured value it quotes
(every number with a decimal point or an exponent: errors, losses, ε, μ; the integers are the
protocol's update counts, T, seeds and sizes) and looks for it, at the precision it is written
with, among the numbers in the files of the result folders cited in the same section (every
``folder/`` it names: tables, summary, findings, results.json, metrics.jsonl, config.json) and
the paper's own numbers (nesterov_jax/paper/numbers.py), and Eq. 5's μ at each step of its
schedule (0.9375 at update 1,750; from nesterov_jax.schedules). The wall times in the README's
folder tables are checked against each folder's provenance.

What it catches: a number retyped wrong ("0.18 to 2.3" where the data say 0.172 and 2.34), a
number left over from a run that was since merged or re-reported, a section quoting a folder it
does not cite. What it cannot: a true number attached to the wrong setting within a folder.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import pathlib
import re

import pytest

import numpy as np

from nesterov_jax import schedules
from nesterov_jax.paper import numbers

RESULTS = pathlib.Path(__file__).resolve().parent.parent / "results"
README = RESULTS / "README.md"
LOG = RESULTS / "LOG.md"  # the full notes and the run log

# A measured value: 0.0433, 2.10, 1e-5, 5e-05; not part of a word, a path or a version.
_NUMBER = re.compile(r"(?<![\w.\-/])(\d+\.\d+(?:e-?\d+)?|\d+e-?\d+)(?!\.?\d)")
_ANY_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_FOLDER = re.compile(r"([a-z0-9_]+(?:\.[a-z0-9_]+)*)/")  # a folder may carry an ε: nag0999_0.01/
_SECTION = re.compile(r"^## ", re.M)
# The README's version strings and code names that look like numbers.
_NOT_VALUES = re.compile(r"jax \d|optax \d|flax \d|Python (?:≥ )?\d|python \d")


def _values(text: str) -> list[float]:
  out = []
  for token in _ANY_NUMBER.findall(text):
    try:
      value = float(token)
    except ValueError:
      continue
    if math.isfinite(value):
      out.append(abs(value))
  return out


@functools.lru_cache(maxsize=None)
def _folder_values(folder: str) -> tuple[float, ...]:
  """Every number in a result folder's text files, sorted."""
  values = []
  for path in sorted((RESULTS / folder).rglob("*")):
    if path.suffix in (".md", ".json", ".jsonl"):
      values += _values(path.read_text())
  return tuple(sorted(values))


@functools.lru_cache(maxsize=None)
def _paper_values() -> tuple[float, ...]:
  return tuple(sorted(_values(pathlib.Path(numbers.__file__).read_text())))


@functools.lru_cache(maxsize=None)
def _schedule_values() -> tuple[float, ...]:
  """Eq. 5's μ at every step of its schedule (period 250) over the paper's 750,000 updates."""
  mu = schedules.momentum_schedule(1.0)(np.arange(0, 750_000, 250))
  return tuple(sorted(float(m) for m in np.asarray(mu, np.float64)))


def _matches(token: str, values: tuple[float, ...]) -> bool:
  """Whether some value rounds to ``token`` at the precision it is written with."""
  x = float(token)
  mantissa = token.split("e")[0]
  decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
  exponent = int(token.split("e")[1]) if "e" in token else 0
  half = 0.5 * 10.0 ** (exponent - decimals)
  low, high = x - half * (1 + 1e-9), x + half * (1 + 1e-9)
  i = bisect.bisect_left(values, low)
  return i < len(values) and values[i] <= high


def _sections(path: pathlib.Path = README) -> list[tuple[str, str]]:
  text = path.read_text()
  starts = [m.start() for m in _SECTION.finditer(text)]
  bounds = zip([0] + starts, starts + [len(text)])
  return [(text[a:b].splitlines()[0] if a < b else "", text[a:b]) for a, b in bounds]


def _cited(section: str) -> list[str]:
  return sorted({f for f in _FOLDER.findall(section) if (RESULTS / f).is_dir()})


def _unmatched(section: str) -> list[str]:
  folders = _cited(section)
  pools = [_folder_values(f) for f in folders] + [_paper_values(), _schedule_values()]
  missing = []
  for line in section.splitlines():
    line = _NOT_VALUES.sub(" ", line)
    line = re.sub(r"\]\([^)]*\)|`[^`]*/[^`]*`", " ", line)  # links and paths carry no values
    for token in _NUMBER.findall(line.replace(",", "")):
      if not any(_matches(token, pool) for pool in pools):
        missing.append(token)
  return missing


def test_the_matcher_reads_precision_from_how_a_number_is_written():
  values = tuple(sorted([0.15812, 2.3412, 1e-5, 0.00023333]))
  assert _matches("0.158", values) and _matches("0.16", values) and not _matches("0.159", values)
  assert _matches("2.34", values) and not _matches("2.3", values[:1] + (2.36,))
  assert _matches("1e-5", values) and _matches("1e-05", values) and not _matches("1e-6", values)
  assert _matches("0.000233", values) and not _matches("0.000234", values)
  assert _NUMBER.findall("0.9N at 1e-4, `rnn_x/` 2.10 vs 3.33; T = 80, 50,000") == [
    "0.9",
    "1e-4",
    "2.10",
    "3.33",
  ]


SECTIONS = [(f"{p.name}: {t}", s) for p in (README, LOG) for t, s in _sections(p)]


@pytest.mark.parametrize("title,section", SECTIONS, ids=[t[:50] for t, _ in SECTIONS])
def test_every_number_the_readme_quotes_is_in_the_results_it_cites(title, section):
  missing = _unmatched(section)
  assert not missing, (
    f"results/{title!r}: these numbers are in none of the files of the "
    f"folders it cites ({', '.join(_cited(section)) or 'none'}) nor the paper's: {missing}"
  )


_WALL_ROW = re.compile(r"^\| `([a-z0-9_]+(?:\.[a-z0-9_]+)*)/` \|.*\| (?:about )?(\d+) min")


def test_the_folder_tables_wall_times_are_the_runs_own():
  rows = [m.groups() for line in LOG.read_text().splitlines() if (m := _WALL_ROW.match(line))]
  assert rows, "results/LOG.md has no folder table with wall times"
  wrong = []
  for folder, minutes in rows:
    records = json.loads((RESULTS / folder / "results.json").read_text())
    wall = records[0]["provenance"]["wall_time_s"] / 60
    if abs(wall - int(minutes)) > 1:
      wrong.append(f"{folder}: README {minutes} min, provenance {wall:.1f} min")
  assert not wrong, wrong


# The other pages that quote our numbers: the front page and the docs' reproduction page (its
# headline table is the README's, included). The same rule: every value in a file of a folder
# the section cites, or the paper's.
FRONT = [RESULTS.parent / "README.md", RESULTS.parent / "docs" / "paper" / "index.md"]
FRONT_SECTIONS = [
  (f"{p.relative_to(RESULTS.parent)}: {t}", re.sub(r"```.*?```", "", s, flags=re.S))
  for p in FRONT
  for t, s in _sections(p)
]  # code blocks hold arguments, not results


@pytest.mark.parametrize("title,section", FRONT_SECTIONS, ids=[t[:50] for t, _ in FRONT_SECTIONS])
def test_every_number_the_front_page_and_the_docs_quote_is_in_the_results_they_cite(title, section):
  missing = _unmatched(section)
  assert not missing, (
    f"{title}: these numbers are in none of the files of the folders it cites "
    f"({', '.join(_cited(section)) or 'none'}) nor the paper's: {missing}"
  )
