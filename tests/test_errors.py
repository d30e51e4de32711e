"""Bad files, folders and config code: each ends in one line naming what is wrong (exit 2)."""

import gzip
import pathlib
import subprocess
import sys

import pytest

from nesterov_jax import cli
from nesterov_jax.engine import files
from nesterov_jax.engine.config import load_config
from nesterov_jax.engine.tasks import make_task

ROOT = pathlib.Path(__file__).parents[1]
TEACHER = f"{ROOT / 'configs' / 'teacher_mlp.py'}:smoke"
MNIST = f"{ROOT / 'configs' / 'mnist_ae.py'}:smoke"


def error_lines(err: str) -> list[str]:
  """What a command printed to stderr but its progress bar (tqdm's \r-separated updates)."""
  return [
    line
    for line in err.replace("\r", "\n").splitlines()
    if line.strip() and "upd/s" not in line and "/200 [" not in line
  ]


def one_line_error(argv, capsys, *expected):
  assert cli.main(argv) == 2
  err = capsys.readouterr().err
  lines = error_lines(err)
  assert len(lines) == 1 and lines[0].startswith("nesterov-jax: error: "), err
  assert "Traceback" not in err
  for text in expected:
    assert text in lines[0], err
  return lines[0]


def test_missing_data_folder(tmp_path, capsys):
  one_line_error(
    [
      "run",
      MNIST,
      "--workdir",
      str(tmp_path / "run"),
      f"--config.task.data_dir={tmp_path}/nonexistent",
    ],
    capsys,
    f"{tmp_path}/nonexistent",
    "does not exist",
  )
  # The corrected command may use the same workdir: the failed run never trained.
  one_line_error(
    ["run", MNIST, "--workdir", str(tmp_path / "run"), f"--config.task.data_dir={tmp_path}/other"],
    capsys,
    f"{tmp_path}/other",
    "does not exist",
  )


@pytest.mark.parametrize(
  "content, what",
  [
    (b"\x00\x00\x08", "bad magic number"),  # shorter than the magic number
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),  # header cut short
    (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "header declares shape (5,) but holds 2 values"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02", "expected 28x28 images"),  # whole, but not images
    (None, "cannot be read"),  # a gzip stream cut short
  ],
)
def test_malformed_idx_file_is_named(content, what, tmp_path, capsys):
  data = tmp_path / "mnist"
  data.mkdir()
  images = (
    bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(2 * 784)
  )
  (data / "t10k-images-idx3-ubyte").write_bytes(images)
  bad = data / "train-images-idx3-ubyte.gz"
  packed = gzip.compress(images)
  bad.write_bytes(packed[: len(packed) // 2] if content is None else gzip.compress(content))
  one_line_error(
    ["run", MNIST, "--workdir", str(tmp_path / "run"), f"--config.task.data_dir={data}"],
    capsys,
    str(bad),
    what,
  )


def test_workdir_that_is_a_file(tmp_path, capsys):
  (tmp_path / "taken").write_text("not a folder")
  one_line_error(
    ["run", TEACHER, "--workdir", str(tmp_path / "taken")], capsys, "is a file, not a folder"
  )


@pytest.mark.parametrize(
  "source, expected",
  [
    ("def get_config(preset='a'):\n  return (\n\nx = ]\n", ":4: SyntaxError"),
    (
      "import ml_collections\n\ndef get_config(preset='a'):\n  return undefined_name\n",
      ":4: NameError: name 'undefined_name'",
    ),
    ("raise RuntimeError('broken at import')\n", ":1: RuntimeError: broken at import"),
  ],
)
def test_error_inside_a_config_file_names_file_and_line(source, expected, tmp_path, capsys):
  path = tmp_path / "mine.py"
  path.write_text(source)
  one_line_error(
    ["run", str(path), "--workdir", str(tmp_path / "run")], capsys, f"{path}{expected}"
  )
  with pytest.raises(Exception):  # --traceback: the whole trace, for debugging one's own config
    cli.main(["run", str(path), "--workdir", str(tmp_path / "run"), "--traceback"])


def test_workdir_in_use_by_a_live_process_is_refused_and_a_dead_ones_lock_is_not(tmp_path, capsys):
  workdir = tmp_path / "run"
  holder = subprocess.Popen(
    [
      sys.executable,
      "-c",
      "import sys, time; from nesterov_jax.engine import files; "
      "held = files.lock_workdir(sys.argv[1]); print('locked', flush=True); time.sleep(60)",
      str(workdir),
    ],
    stdout=subprocess.PIPE,
    text=True,
  )
  try:
    assert holder.stdout.readline().strip() == "locked"
    one_line_error(
      ["run", TEACHER, "--workdir", str(workdir)], capsys, "is in use by process", str(workdir)
    )
  finally:
    holder.kill()
    holder.wait()
  lock = files.lock_workdir(workdir)  # the kernel released the killed holder's lock
  lock.close()


def test_report_on_an_empty_folder(tmp_path, capsys):
  one_line_error(["report", str(tmp_path)], capsys, "results.json not found")


def test_mnist_full_preset_builds_on_the_embedded_digits():
  """Even with the paper's 10,000 test cases, more than the 5,000 embedded digits, the full
  preset builds its data: at most a fifth is held out, and the provenance says so."""
  for overrides, capped in (((), False), (("task.num_test=10000",), True)):
    task = make_task(load_config(f"{ROOT / 'configs' / 'mnist_ae.py'}:full", overrides).task)
    assert task.num_train == 4000 and task.data["test"].shape[0] == 1000
    assert ("task.num_test = 10000 capped" in task.provenance) == capped


def test_files_are_replaced_whole(tmp_path):
  path = tmp_path / "f.json"
  files.write_json(path, {"a": 1})
  files.write_json(path, {"a": 2})
  assert path.read_text() == '{\n "a": 2\n}\n'
  assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temporary left behind


def test_a_failure_mid_run_is_one_line_and_the_checkpoint_resumes(tmp_path, capsys, monkeypatch):
  """A device failure (here: a read of results off the devices raises, as an out-of-memory
  error would, after update 150: the checkpoint of update 100 is written by then) exits 1
  with one line; rerunning the same command resumes from that checkpoint."""
  from nesterov_jax.engine import train

  real, workdir = train._to_host, tmp_path / "run"

  def failing(x):
    metrics = workdir / "metrics.jsonl"
    if metrics.exists() and '"step": 150' in metrics.read_text():
      raise RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 1.0TiB")
    return real(x)

  monkeypatch.setattr(train, "_to_host", failing)
  assert cli.main(["run", TEACHER, "--workdir", str(workdir)]) == 1
  err = capsys.readouterr().err.strip().splitlines()[-1]
  assert (
    err.startswith("nesterov-jax: error: RuntimeError: RESOURCE_EXHAUSTED")
    and "rerun the same command" in err
  )
  monkeypatch.setattr(train, "_to_host", real)
  assert cli.main(["run", TEACHER, "--workdir", str(workdir)]) == 0
  assert f"resuming {workdir} from update 100" in capsys.readouterr().err
  assert (workdir / "results.json").exists()


@pytest.mark.parametrize("module, extra", [("flax", "paper"), ("ml_collections", "engine")])
def test_a_missing_optional_dependency_names_the_extra_to_install(module, extra, tmp_path):
  """The library needs only jax, optax and chex; the command, without the extra it needs,
  says in one line what to install (simulated: the module cannot be imported)."""
  code = f"""
import sys
class Missing:
  def find_spec(self, name, path=None, target=None):
    if name.split(".")[0] == {module!r}:
      raise ModuleNotFoundError("No module named {module!r}", name={module!r})
sys.meta_path.insert(0, Missing())
import nesterov_jax as nj
nj.nag(0.1, 0.9)
from nesterov_jax import cli
sys.exit(cli.main(["run", "configs/rnn_addition.py:smoke", "--workdir", {str(tmp_path / 'run')!r}]))
"""
  r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
  assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
  assert (
    f"this needs {module}, from the [{extra}] extra: pip install 'nesterov_jax[{extra}]'"
    in r.stderr
  )


def test_import_nesterov_jax_loads_no_engine_or_paper_dependency():
  code = (
    "import nesterov_jax, sys; "
    "print(sorted(m for m in ('flax','matplotlib','orbax','ml_collections','tqdm') if m in sys.modules))"
  )
  r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
  assert r.stdout.strip() == "[]", r.stdout + r.stderr


def _steps(workdir):
  from nesterov_jax.engine import results

  return [m["step"] for m in results.load_metrics(workdir)]


def test_a_disk_that_fills_at_a_checkpoint_is_one_line_and_the_rerun_logs_no_step_twice(
  tmp_path, capsys, monkeypatch
):
  """The first checkpoint fails as a full disk fails it (a patched writer): one line naming the
  checkpoints and the cause; the run died before any checkpoint landed, so the rerun starts
  from update 0, and metrics.jsonl holds each step once."""
  import errno

  import orbax.checkpoint as ocp

  real = ocp.CheckpointManager.save

  def full_disk(self, step, *args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")

  workdir = tmp_path / "run"
  monkeypatch.setattr(ocp.CheckpointManager, "save", full_disk)
  one_line_error(
    ["run", TEACHER, "--workdir", str(workdir)],
    capsys,
    f"could not write {workdir / 'checkpoints'}: No space left on device",
  )
  assert _steps(workdir) == [0, 50, 100]
  monkeypatch.setattr(ocp.CheckpointManager, "save", real)  # the space is freed
  assert cli.main(["run", TEACHER, "--workdir", str(workdir)]) == 0
  assert _steps(workdir) == [0, 50, 100, 150, 200]


def test_a_failed_write_of_a_run_file_names_the_file(tmp_path, capsys, monkeypatch):
  import os

  real = os.replace

  def read_only(src, dst):
    if str(dst).endswith("metrics.jsonl"):
      raise PermissionError(13, "Permission denied")
    return real(src, dst)

  monkeypatch.setattr(os, "replace", read_only)
  workdir = tmp_path / "run"
  one_line_error(
    ["run", TEACHER, "--workdir", str(workdir)],
    capsys,
    f"could not write {workdir / 'metrics.jsonl'}: Permission denied",
  )
  assert not [p for p in workdir.iterdir() if p.name.endswith(".tmp")]  # no temporary left behind


@pytest.mark.slow
def test_a_real_full_disk_keeps_orbaxs_tracebacks_out_of_the_terminal(tmp_path):
  """On a 120 kB tmpfs (where this machine lets the test mount one) orbax's writer threads
  fail as on a full disk: the command prints its progress and one error line."""
  disk = tmp_path / "disk"
  disk.mkdir()
  if subprocess.run(
    ["mount", "-t", "tmpfs", "-o", "size=120k", "tmpfs", str(disk)], capture_output=True
  ).returncode:
    pytest.skip("cannot mount a tmpfs here (the patched-writer test covers the one line)")
  command = [sys.executable, "-m", "nesterov_jax", "run", TEACHER, "--workdir", str(disk / "run")]
  try:
    r = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    subprocess.run(["mount", "-o", "remount,size=50m", str(disk)], check=True)  # the space is freed
    rerun = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    steps = _steps(disk / "run")
  finally:
    subprocess.run(["umount", str(disk)], capture_output=True)
  assert rerun.returncode == 0, rerun.stderr[-2000:]
  assert steps == [0, 50, 100, 150, 200]
  assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
  assert error_lines(r.stderr) == [
    f"nesterov-jax: error: could not write {disk / 'run' / 'checkpoints'}: No space left on device; "
    "the files written before it are whole (free the space or fix the folder, then rerun the same command)"
  ]


@pytest.mark.slow
def test_a_run_killed_before_its_first_checkpoint_reruns_without_repeating_a_step(tmp_path):
  import signal
  import time

  workdir = tmp_path / "run"
  command = [sys.executable, "-m", "nesterov_jax", "run", TEACHER, "--workdir", str(workdir)]
  proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  while not (workdir / "metrics.jsonl").exists() and proc.poll() is None:
    time.sleep(0.01)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert not any((workdir / "checkpoints").glob("*/"))  # killed before the first checkpoint
  assert subprocess.run(command, cwd=ROOT, capture_output=True).returncode == 0
  steps = _steps(workdir)
  assert steps == sorted(set(steps)) and steps[0] == 0 and steps[-1] == 200


def test_a_corrupt_run_file_is_named_in_its_error_line(tmp_path, capsys):
  from nesterov_jax.engine import train

  workdir = tmp_path / "run"
  config = load_config(TEACHER)
  train.prepare_workdir(workdir, config)
  train.run(config, workdir)
  other = tmp_path / "other"
  config = load_config(TEACHER, ["grid.seeds=(1,)"])
  train.prepare_workdir(other, config)
  train.run(config, other)
  results = other / "results.json"
  results.write_text(results.read_text()[:300])  # a write torn mid-file
  capsys.readouterr()
  one_line_error(
    ["merge", str(tmp_path / "merged"), str(workdir), str(other)],
    capsys,
    f"{results} is not valid JSON",
  )
  metrics = workdir / "metrics.jsonl"
  lines = metrics.read_text().splitlines()
  metrics.write_text("\n".join(lines[:2] + [lines[2][:40]] + lines[3:]) + "\n")
  one_line_error(["report", str(workdir)], capsys, f"{metrics}, line 3, is not valid JSON")
