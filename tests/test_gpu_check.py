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
  return subprocess.run(
    ["bash", "scripts/gpu_check.sh", str(out), preset],
    cwd=ROOT,
    capture_output=True,
    text=True,
    env={**os.environ, "GPU_CHECK_PYTHON": str(python), **env},
  )


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
  """What scripts/gpu_wheels.sh puts in .whl/, fetched by pip (the GPU machine has no network)."""
  folder = tmp_path_factory.mktemp("whl")
  subprocess.run(
    ["bash", "scripts/gpu_wheels.sh"],
    cwd=ROOT,
    check=True,
    capture_output=True,
    env={**os.environ, "GPU_WHEELS_DEST": str(folder)},
  )
  return folder


@pytest.mark.slow
@pytest.mark.parametrize(
  "setuptools", ["65.5.0", None], ids=["python3.11-venv-setuptools", "no-setuptools"]
)
def test_the_install_works_offline_whatever_setuptools_the_machine_has(
  tmp_path, wheels, setuptools
):
  """A setuptools older than 70.1 without `wheel` failed the in-place build ('invalid command
  bdist_wheel'); Python 3.12's venvs have no setuptools at all. The build now happens in an
  isolated environment made from the carried wheels, offline."""
  subprocess.run([sys.executable, "-m", "venv", tmp_path / "venv"], check=True)
  python = tmp_path / "venv" / "bin" / "python"
  pip = [python, "-m", "pip", "-q", "--disable-pip-version-check"]
  subprocess.run([*pip, "uninstall", "-y", "setuptools", "wheel"], capture_output=True)
  if setuptools:
    subprocess.run([*pip, "install", f"setuptools=={setuptools}"], check=True)
  r = gpu_check(
    tmp_path / "out",
    "smoke",
    python=python,
    GPU_CHECK_STEPS="install",
    GPU_CHECK_WHEELS=str(wheels),
  )
  assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
  assert "gpu_check: every step passed (install)" in (tmp_path / "out" / "log.txt").read_text()


@pytest.mark.slow
def test_the_gpu_check_runs_every_step_at_smoke_size_and_writes_every_output(tmp_path, wheels):
  out = tmp_path / "out"
  r = gpu_check(out, "smoke", GPU_CHECK_WHEELS=str(wheels))
  assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
  log = (out / "log.txt").read_text()
  for step in ("install", "a", "b", "c"):
    assert (
      f"== step {step}: " in log and log.count(f"== step {step}: ") == 2
    )  # its start and its time
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
  assert (
    r.returncode == 1
    and "gpu_check: step install failed (exit 124, after its 1 s limit)" in r.stderr
  ), r.stderr
