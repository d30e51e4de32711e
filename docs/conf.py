"""Sphinx configuration: MyST pages, the API from the docstrings, built offline.

Build: ``sphinx-build -W -b html docs docs/_build/html`` (tests/test_docs.py runs it).
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))

project = "nesterov_jax"
author = "the nesterov_jax developers"
copyright = "2026, the nesterov_jax developers"  # noqa: A001 -- Sphinx's name

extensions = [
  "myst_parser",
  "sphinx.ext.autodoc",
  "sphinx.ext.autosummary",
  "sphinx.ext.napoleon",  # Google-style Args/Returns/Example sections, as optax writes them
  "sphinx.ext.mathjax",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}  # autosummary writes .rst stubs
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]
autosummary_generate = True
autodoc_default_options = {"members": False}
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Nothing is fetched: no intersphinx, no remote images.
html_theme = "alabaster"
html_title = "nesterov_jax"
html_static_path = []
