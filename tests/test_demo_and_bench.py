"""The quick start's demo writes its tables and plots; the benchmark measures side by side."""

import json
import pathlib
import re

import jax
import pytest

from nesterov_jax.paper import bench
from nesterov_jax import cli

ROOT = pathlib.Path(__file__).parents[1]


@pytest.mark.slow
def test_demo_smoke_writes_the_quadratic_figures_and_a_curves_table(tmp_path):
  assert cli.main(["run", f"{ROOT / 'configs' / 'demo.py'}:smoke", "--workdir", str(tmp_path)]) == 0
  for name in (
    "quadratic/quadratic.md",
    "quadratic/oblong.png",
    "curves/table1.md",
    "curves/summary.md",
    "curves/error_curves.png",
    "curves/reconstructions.png",
    "curves/results.json",
  ):
    assert (tmp_path / name).stat().st_size > 0, name


def test_benchmark_interleaves_its_windows_and_reports_medians_ranges_and_speedups(monkeypatch):
  # Fake methods with known costs: "slow" takes 3× the engine's time per update in every
  # window but the one where a disturbance (a shared machine) doubles the engine's. A bench
  # that timed each method in one window, took means, or divided the wrong way round would
  # report another speed-up, range or order of calls.
  clock, calls = [0.0], []
  monkeypatch.setattr(bench.time, "perf_counter", lambda: clock[0])
  cost = {"engine": 1.0, "slow": 3.0, "torch, sequential": 0.5}

  def fake(name):
    def run(start):
      window = (start // 10 - 1) // 2  # chunk 10, 2 repeats per window
      calls.append((name, window))
      disturbed = name == "engine" and window == 1
      clock[0] += 10 * cost[name] * (2.0 if disturbed else 1.0)

    return run

  seconds = bench.interleaved_seconds({n: fake(n) for n in cost}, chunk=10, repeats=2, windows=3)
  assert [c for c in calls if c[1] >= 0][::2] == [  # after one compile chunk each: rotating order
    ("engine", 0),
    ("slow", 0),
    ("torch, sequential", 0),
    ("slow", 1),
    ("torch, sequential", 1),
    ("engine", 1),
    ("torch, sequential", 2),
    ("engine", 2),
    ("slow", 2),
  ]
  assert seconds["engine"] == [1.0, 2.0, 1.0] and seconds["slow"] == [3.0, 3.0, 3.0]
  rows = {
    r["method"]: r for r in bench.cell_rows("w", "highest", 4, seconds, flops=2e9, ceiling=1.0)
  }
  assert rows["engine"]["us_per_config_update"] == pytest.approx(
    0.25e6
  )  # median 1.0 s over 4 configs
  assert (rows["engine"]["us_min"], rows["engine"]["us_max"]) == pytest.approx((0.25e6, 0.5e6))
  assert rows["slow"]["engine_speedup"] == pytest.approx(
    3.0
  )  # the median of per-window ratios 3, 1.5, 3
  assert (rows["slow"]["engine_speedup_min"], rows["slow"]["engine_speedup_max"]) == pytest.approx(
    (1.5, 3.0)
  )
  assert rows["torch, sequential"]["engine_speedup"] == pytest.approx(0.5)
  assert rows["engine"]["engine_speedup"] is None
  assert rows["engine"]["tflops"] == pytest.approx(2e9 / 0.25 / 1e12)
  assert rows["engine"]["fraction_of_ceiling"] == pytest.approx(rows["engine"]["tflops"])


@pytest.mark.slow
def test_benchmark_quick_preset_runs_every_method_and_writes_its_table(tmp_path):
  bench.main(tmp_path, "quick")
  result = json.loads((tmp_path / "bench.json").read_text())
  methods = {(r["workload"], r["method"]) for r in result["rows"]}
  expected = ("engine", "naive vmap", "sequential") + (
    ("engine, 1 device",) if len(jax.devices()) > 1 else ()
  )
  for workload in ("mnist_ae", "rnn_T20"):
    assert {(workload, m) for m in expected} <= methods
  assert ("rnn_T20", "engine, autodiff BPTT") in methods
  text = (tmp_path / "bench.md").read_text()
  assert "Made by `" in text and "interleaved windows" in text
  (rung,) = result["halving"]  # what a rung of successive halving costs: the gather and the compile
  assert (
    rung["configs"] == 2 and rung["kept"] == 1 and rung["gather_s"] > 0 and rung["compile_s"] >= 0
  )
  assert rung["gather_in_chunks"] == pytest.approx(
    rung["gather_s"] / rung["chunk_s_kept"], rel=1e-9
  )
  assert "## Successive halving: what a rung costs" in text
  (gn,) = result["gauss_newton"]  # the Hessian-free row: one G·v against one gradient
  assert gn["gv_over_gradient"] == pytest.approx(gn["gv_us"] / gn["gradient_us"], rel=1e-9)


def test_a_bench_of_halving_rows_alone_writes_only_its_own_table():
  # The `halving` preset measures rungs and nothing else: no empty method table, no HF heading.
  rung = {
    "workload": "rnn_T80",
    "precision": "highest",
    "configs": 35,
    "kept": 14,
    "chunk": 10,
    "chunk_s_full": 2.0,
    "chunk_s_kept": 1.0,
    "gather_s": 0.05,
    "gather_s_min": 0.04,
    "gather_s_max": 0.06,
    "compile_s": 3.0,
    "gather_in_chunks": 0.05,
    "compile_in_chunks": 3.0,
  }
  text = bench.markdown(
    {
      "rows": [],
      "gauss_newton": [],
      "halving": [rung],
      "matmul_ceiling_tflops": {"highest": 0.2},
      "matmul_size": 1024,
      "windows": 5,
      "repeats": 2,
      "chunk": 10,
      "provenance": {
        "command": "nesterov-jax bench --preset halving",
        "commit": "abc",
        "device": "2 x CPU",
        "wall_time_s": 1.0,
        "finished_utc": "now",
        "versions": {"jax": "0", "optax": "0"},
      },
    }
  )
  assert (
    "| rnn_T80 | highest | 35 → 14 | 10 | 2 | 1 | 50.0 (40.0–60.0) | 0.05 | 3.00 | 3.0 |" in text
  )
  assert "| workload | precision | configs | method |" not in text and "Hessian-free" not in text


def test_the_cli_offers_every_bench_preset_and_no_other(capsys):
  with pytest.raises(SystemExit):
    cli.main(["bench", "--preset", "no-such-preset"])
  offered = re.search(r"choose from (.*)\)", capsys.readouterr().err).group(1)
  assert set(re.findall(r"'?([\w]+)'?", offered)) == set(bench.PRESETS)
