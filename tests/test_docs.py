"""The docs site builds offline with every warning an error, documents every public name, and
its examples run.

What each test catches: a page that links to a file outside the site, a docstring that is not
valid reStructuredText, a broken include of the README (sphinx-build -W fails); a public name
added to nesterov_jax.__all__ without a docstring or an entry in docs/api.md (the coverage
check, itself checked on a module with an undocumented name).
"""

import pathlib
import re
import shutil
import subprocess
import sys
import types

import pytest

import nesterov_jax

ROOT = pathlib.Path(__file__).parents[1]
DOCS = ROOT / "docs"


def undocumented(module, api_page: str) -> list[str]:
  """The public names of ``module`` that the API page does not list, or that have no docstring
  with more than a summary line (chex's check, in our words)."""
  listed = set(re.findall(r"^\s{3}(\w+)$", api_page, re.M))
  out = []
  for name in module.__all__:
    doc = getattr(module, name).__doc__ or ""
    if name not in listed or len(doc.strip().splitlines()) < 2:
      out.append(name)
  return out


def test_every_public_name_is_in_the_api_reference_with_a_docstring():
  assert undocumented(nesterov_jax, (DOCS / "api.md").read_text()) == []


def test_the_coverage_check_fails_on_an_undocumented_or_unlisted_name():
  def documented():
    """A summary.

    And its body."""

  fake = types.SimpleNamespace(
    __all__=["documented", "bare", "unlisted"],
    documented=documented,
    bare=lambda: None,
    unlisted=documented,
  )
  assert undocumented(fake, "   documented\n   bare\n") == ["bare", "unlisted"]


def test_every_page_is_in_the_table_of_contents():
  pages = {
    p.relative_to(DOCS).with_suffix("").as_posix()
    for p in DOCS.rglob("*.md")
    if "_build" not in p.parts and "_autosummary" not in p.parts
  }
  listed = set(re.findall(r"^(\S+)$", (DOCS / "index.md").read_text().split("{toctree}")[1], re.M))
  listed |= {
    f"paper/{n}" for n in re.findall(r"^(\w+)$", (DOCS / "paper" / "index.md").read_text(), re.M)
  }
  assert pages - {"index"} <= listed, pages - listed


@pytest.mark.slow
def test_the_docs_build_offline_with_warnings_as_errors(tmp_path):
  """sphinx-build -W: a page linking outside the site, a docstring that is not valid
  reStructuredText or an include of a README marker that is gone fails the build."""
  out = tmp_path / "html"
  shutil.rmtree(DOCS / "_autosummary", ignore_errors=True)
  r = subprocess.run(
    [
      sys.executable,
      "-m",
      "sphinx",
      "-W",
      "--keep-going",
      "-q",
      "-b",
      "html",
      str(DOCS),
      str(out),
      "-d",
      str(tmp_path / "doctrees"),
    ],
    capture_output=True,
    text=True,
    cwd=ROOT,
  )
  shutil.rmtree(DOCS / "_autosummary", ignore_errors=True)
  assert r.returncode == 0, r.stdout + r.stderr
  index = (out / "index.html").read_text()
  assert "Getting started" in index and "API reference" in index
  api = (out / "_autosummary" / "nesterov_jax.evaluation_params.html").read_text()
  assert "Example" in api and "nnx.Optimizer" in api  # the docstring, rendered
  table1 = (out / "paper" / "table1.html").read_text()
  assert "Curves" in table1 and "0.096" in table1  # a results file, included as it is
