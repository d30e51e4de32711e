"""What ``nesterov-jax report`` adds for the paper's tasks (their builders' ``report`` hook):
the paper's tables with ours beside them (tables.py), the paper's findings evaluated over
paired seeds (findings.py: ``findings.md``), and pictures of the trained networks while the
checkpoints are there (figures.py)."""

from __future__ import annotations

import pathlib

from nesterov_jax.paper import figures, findings, tables


def write(workdir: pathlib.Path, records: list[dict], config) -> list[str]:
  """Writes the paper's files for a run of one of its tasks; returns their names."""
  config = config.to_dict() if hasattr(config, "to_dict") else dict(config)
  return (
    tables.write_paper_tables(workdir, records, config)
    + findings.write_findings(workdir, records, config)
    + figures.write_figures(workdir, records)
  )
