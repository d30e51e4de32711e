"""The report puts our numbers beside the paper's, with the protocol difference on each line."""

import pathlib

import pytest

from nesterov_jax import cli

CONFIGS = pathlib.Path(__file__).parents[1] / "configs"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  out = {}
  for name in ("curves_ae", "curves_init_scale", "rnn_addition"):
    workdir = tmp_path_factory.mktemp(name)
    assert cli.main(["run", f"{CONFIGS / name}.py:smoke", "--workdir", str(workdir)]) == 0
    out[name] = workdir
  return out


def test_table1_and_table2_show_ours_beside_the_papers_with_the_protocol(runs):
  table1 = (runs["curves_ae"] / "table1.md").read_text()
  assert "Made by `" in table1 and "(0.48)" in table1 and "(0.074)" in table1
  assert "ours: 40 updates" in table1 and "paper: 750,000 updates" in table1
  table2 = (runs["curves_ae"] / "table2.md").read_text()
  assert "0.096 → 0.074" in table2 and "last 20 of 40 updates at μ = 0.9" in table2
  assert (runs["curves_ae"] / "reconstructions.png").stat().st_size > 0


def test_table3_lists_each_init_scale_beside_the_papers(runs):
  table3 = (runs["curves_init_scale"] / "table3.md").read_text()
  assert "| 0.25 | **" in table3 and "(16)" in table3 and "(0.074)" in table3


def test_table5_has_the_biases_column_and_hidden_state_picture(runs):
  table5 = (runs["rnn_addition"] / "table5.md").read_text()
  assert "(0.82)" in table5 and "(0.00025)" in table5 and "T = 20" in table5 and "T = 80" in table5
  assert (runs["rnn_addition"] / "hidden_states.png").stat().st_size > 0
