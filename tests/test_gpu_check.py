"""scripts/gpu_check.sh, the GPU machine's checks, dry-run on a CPU at tiny sizes."""

import os
import pathlib
import subprocess
import sys
import tarfile

import pytest

ROOT = pathlib.Path(__file__).parents[1]


def gpu_check(out, preset, python=sys.executable, **env):
  """The script as the GPU machine runs it, on this test's own interpreter."""
  return subprocess.run(["bash", "scripts/gpu_check.sh", str(out), preset], cwd=ROOT, capture_output=True, text=True,
                        env={**os.environ, "GPU_CHECK_PYTHON": str(python), **env})


@pytest.mark.slow
def test_the_gpu_check_runs_every_step_at_smoke_size_and_writes_every_output(tmp_path):
  out = tmp_path / "out"
  r = gpu_check(out, "smoke")
  assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
  log = (out / "log.txt").read_text()
  for step in ("install", "a", "b", "c"):
    assert f"== step {step}: " in log and log.count(f"== step {step}: ") == 2  # its start and its time
  assert "gpu_check: every step passed" in log and " passed" in log  # pytest's line
  assert "| engine speed-up (range) |" in (out / "bench.md").read_text()
  assert (out / "bench.json").stat().st_size > 1000
  assert "Table 5, addition" in (out / "table5.md").read_text()
  with tarfile.open(out / "rnn_addition_gpu.tar.gz") as run:
    names = {pathlib.Path(n).name for n in run.getnames()}
  assert {"results.json", "metrics.jsonl", "config.json", "summary.md", "table5.md"} <= names
  assert not any("checkpoints" in n for n in names)


def test_the_gpu_check_names_the_step_that_fails(tmp_path):
  # A preset it does not know stops it before any step. A step that fails, or that runs past
  # its limit, is named, and no later step runs. The interpreter is a stand-in, so that nothing
  # is installed into (or half-removed from) this test's environment.
  r = gpu_check(tmp_path / "out", "huge")
  assert r.returncode == 2 and "preset must be full or smoke" in r.stderr
  failing, hanging = tmp_path / "failing", tmp_path / "hanging"
  failing.write_text("#!/bin/sh\nexit 3\n")
  hanging.write_text("#!/bin/sh\nsleep 30\n")
  failing.chmod(0o755), hanging.chmod(0o755)
  r = gpu_check(tmp_path / "out", "smoke", python=failing)
  assert r.returncode == 1 and "gpu_check: step install failed (exit 3)" in r.stderr, r.stderr
  assert "== step a" not in (tmp_path / "out" / "log.txt").read_text()
  r = gpu_check(tmp_path / "out", "smoke", python=hanging, STEP_TIMEOUT="1")
  assert r.returncode == 1 and "gpu_check: step install failed (exit 124, after its 1 s limit)" in r.stderr, r.stderr
