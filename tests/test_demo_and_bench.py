"""The quick start's demo writes its tables and plots; the benchmark measures side by side."""

import json
import pathlib

import pytest

from nesterov_jax.paper import bench
from nesterov_jax import cli
from nesterov_jax.engine import tasks
from nesterov_jax.engine.config import load_config

ROOT = pathlib.Path(__file__).parents[1]


def test_demo_smoke_writes_the_quadratic_figures_and_a_curves_table(tmp_path):
  assert cli.main(["run", f"{ROOT / 'configs' / 'demo.py'}:smoke", "--workdir", str(tmp_path)]) == 0
  for name in ("quadratic/quadratic.md", "quadratic/oblong.png", "curves/table1.md", "curves/summary.md",
               "curves/error_curves.png", "curves/reconstructions.png", "curves/results.json"):
    assert (tmp_path / name).stat().st_size > 0, name


def test_benchmark_runs_every_method_and_reports_speedups_against_the_engine(monkeypatch, tmp_path):
  config = load_config(f"{ROOT / 'configs' / 'teacher_mlp.py'}:smoke")
  task = tasks.make_task(config.task)
  monkeypatch.setattr(bench, "workloads", lambda rnn_length, rnn_unroll=8: {"mnist_ae": (task, config, 1e6),
                                                              f"rnn_T{rnn_length}": (task, config, 2e6)})
  torch_calls = []
  monkeypatch.setattr(bench, "torch_seconds", lambda *args: torch_calls.append(args[0]) or 1e-3)
  result = bench.run_bench({"mnist": [3], "rnn": [1, 2]}, ["highest"], chunk=2, repeats=1, rnn_length=5,
                           matmul_size=64)
  methods = ("engine", "naive vmap", "sequential", "torch, sequential")
  assert [(r["workload"], r["configs"], r["method"]) for r in result["rows"]] == [
      ("mnist_ae", 3, m) for m in methods] + [("rnn_T5", n, m) for n in (1, 2) for m in methods]
  assert torch_calls == ["mnist_ae", "rnn_T5"]  # one PyTorch config timed once per workload
  torch_rows = [r for r in result["rows"] if r["method"] == "torch, sequential"]
  for r in torch_rows:  # N configs one after another: N × one config's time, per config the same
    assert r["us_per_config_update"] == pytest.approx(1e3)
  for r in result["rows"]:
    assert r["us_per_config_update"] > 0
    assert abs(r["tflops"] - (1e6 if r["workload"] == "mnist_ae" else 2e6) / r["us_per_config_update"] / 1e6) < 1e-9
    assert 0 < r["fraction_of_ceiling"]
  (gn,) = result["gauss_newton"]  # the Hessian-free row: one G·v against one gradient
  assert gn["workload"] == "mnist_ae" and gn["gradient_us"] > 0 and gn["gv_first_us"] > 0
  assert gn["gv_over_gradient"] == pytest.approx(gn["gv_us"] / gn["gradient_us"], rel=1e-9)
  text = bench.markdown(result)
  assert "engine speed-up" in text and text.count("×") == 9 and "Made by `" in text
  assert "| mnist_ae | highest |" in text.split("G·v against one gradient")[1]
  json.dumps(result)
