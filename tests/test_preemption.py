"""Preemption and host loss: SIGTERM or Ctrl-C stops a run at a chunk boundary with a
checkpoint there (status 75), and the rerun resumes bitwise; a second Ctrl-C ends it at once;
a lost or frozen process ends every other process in one line (status 1); a run that
succeeds prints nothing but its progress and the files it wrote."""

import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
import warnings

import pytest

from nesterov_jax.engine import stopping

ROOT = pathlib.Path(__file__).parents[1]
SMOKE = f"{ROOT / 'configs' / 'teacher_mlp.py'}:smoke"
# Long enough to be stopped mid-run; chunks of 50 updates.
LONG = [
  "--config.num_updates=40000",
  "--config.chunk_size=50",
  "--config.checkpoint_every=20000",
  "--config.eval_every=10000",
]
# One thread per device: XLA's multi-threaded CPU kernels may differ in the last bit from call
# to call (jax-ml/jax#39741), which would hide what these tests check, bitwise equality.
ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def start(workdir, *args, devices=1, **popen):
  env = {
    **os.environ,
    "JAX_PLATFORMS": "cpu",
    "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices} {ONE_THREAD}",
  }
  command = [
    sys.executable,
    "-m",
    "nesterov_jax",
    "run",
    SMOKE,
    "--workdir",
    str(workdir),
    *LONG,
    *args,
  ]
  return subprocess.Popen(
    command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen
  )


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def pair(workdir, port, *args, **popen):
  return [
    start(
      workdir,
      "--coordinator",
      f"127.0.0.1:{port}",
      "--num-processes",
      "2",
      "--process-id",
      str(i),
      *args,
      **popen,
    )
    for i in range(2)
  ]


def wait_for_step(workdir, step, procs, timeout=240):
  """Until the run's metrics.jsonl reaches ``step`` (the run is then mid-way)."""
  deadline = time.time() + timeout
  while time.time() < deadline:
    lines = (
      (workdir / "metrics.jsonl").read_text().splitlines()
      if (workdir / "metrics.jsonl").exists()
      else []
    )
    if lines and json.loads(lines[-1])["step"] >= step:
      return
    assert all(p.poll() is None for p in procs), "a process ended before it could be signalled"
    time.sleep(0.05)
  raise AssertionError(f"the run did not reach update {step}")


def messages(stderr: str) -> list[str]:
  """stderr without the progress bar's frames."""
  return [
    line
    for line in stderr.replace("\r", "\n").splitlines()
    if line.strip() and "upd/s" not in line and not line.startswith("teacher_mlp x")
  ]


def stopped_at(line: str) -> int:
  return int(re.search(r"at update ([\d,]+),", line).group(1).replace(",", ""))


def finals(workdir):
  return [
    {k: v for k, v in r.items() if k.startswith("final_") or k == "diverged"}
    for r in json.loads((workdir / "results.json").read_text())
  ]


def test_a_signal_is_held_until_the_run_asks_and_the_handlers_are_restored():
  before = signal.getsignal(signal.SIGTERM)
  with stopping.StopRequests() as stop:
    assert stop.agreed() is None
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.01)
    assert stop.agreed() == "SIGTERM"
  assert signal.getsignal(signal.SIGTERM) is before


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("whole")
  proc = start(workdir)
  _, err = proc.communicate(timeout=600)
  assert proc.returncode == 0, err
  return workdir


@pytest.mark.slow
@pytest.mark.cpu_bitwise
def test_sigterm_mid_run_saves_that_update_exits_75_and_the_rerun_ends_bitwise_equal(
  tmp_path, uninterrupted
):
  workdir = tmp_path / "stopped"
  proc = start(workdir)
  wait_for_step(workdir, 2000, [proc])
  proc.send_signal(signal.SIGTERM)
  _, err = proc.communicate(timeout=120)
  assert proc.returncode == stopping.STOPPED_STATUS, err
  [line] = messages(err)
  step = stopped_at(line)
  assert (
    line.startswith("nesterov-jax: stopped by SIGTERM at update")
    and "rerun the same command" in line
  )
  assert 2000 <= step < 40000 and step % 50 == 0
  assert step in {int(p.name) for p in (workdir / "checkpoints").iterdir() if p.name.isdigit()}
  assert json.loads((workdir / "metrics.jsonl").read_text().splitlines()[-1])["step"] == step
  assert not (workdir / "results.json").exists()

  rerun = start(workdir)
  _, err = rerun.communicate(timeout=600)
  assert rerun.returncode == 0 and f"resuming {workdir} from update {step}" in err, err
  assert finals(workdir) == finals(uninterrupted)  # bitwise: == on the floats
  steps = [
    json.loads(line)["step"] for line in (workdir / "metrics.jsonl").read_text().splitlines()
  ]
  assert steps == sorted(set(steps)) and steps[-1] == 40000


@pytest.mark.slow
def test_a_second_ctrl_c_ends_the_run_at_once_mid_chunk(tmp_path):
  # Chunks of 20,000 updates take seconds; the second Ctrl-C must not wait for one to end.
  proc = start(
    tmp_path,
    "--config.chunk_size=20000",
    "--config.schedule.finetune_steps=20000",
    "--config.eval_every=20000",
  )
  wait_for_step(tmp_path, 0, [proc])  # training has started
  proc.send_signal(signal.SIGINT)
  time.sleep(0.2)
  sent = time.time()
  proc.send_signal(signal.SIGINT)
  _, err = proc.communicate(timeout=60)
  assert proc.returncode == stopping.INTERRUPTED_STATUS and time.time() - sent < 5, err
  assert messages(err) == [
    "nesterov-jax: error: interrupted; the run's last checkpoint stays usable: "
    "rerun the same command to resume"
  ]


@pytest.mark.slow
@pytest.mark.cpu_bitwise
def test_sigterm_to_one_of_two_processes_stops_both_at_one_update_and_the_rerun_is_bitwise(
  tmp_path,
):
  shorter = "--config.num_updates=20000"
  whole = tmp_path / "whole"
  procs = pair(whole, free_port(), shorter)
  assert [p.communicate(timeout=600) and p.returncode for p in procs] == [0, 0]

  workdir = tmp_path / "stopped"
  procs = pair(workdir, free_port(), shorter)
  wait_for_step(workdir, 2000, procs)
  procs[1].send_signal(signal.SIGTERM)
  errs = [p.communicate(timeout=120)[1] for p in procs]
  assert [p.returncode for p in procs] == [stopping.STOPPED_STATUS] * 2, errs
  lines = [messages(e) for e in errs]
  assert (
    lines[0] == lines[1] and len(lines[0]) == 1 and "stopped by SIGTERM at update" in lines[0][0]
  )
  step = stopped_at(lines[0][0])
  assert step in {int(p.name) for p in (workdir / "checkpoints").iterdir() if p.name.isdigit()}

  procs = pair(workdir, free_port(), shorter)
  assert [p.communicate(timeout=600) and p.returncode for p in procs] == [0, 0]
  assert finals(workdir) == finals(whole)


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "frozen"])
def test_a_lost_process_ends_the_other_within_the_heartbeat_timeout_in_one_line(tmp_path, how):
  procs = pair(
    tmp_path,
    free_port(),
    "--heartbeat-timeout",
    "10",
    "--config.num_updates=400000",
    start_new_session=True,
  )  # each its own group: the host's processes all go
  try:
    wait_for_step(tmp_path, 1000, procs)
    os.killpg(procs[1].pid, how)
    lost = time.time()
    _, err = procs[0].communicate(timeout=60)
    assert procs[0].returncode == 1 and time.time() - lost < 10 + 10, err
    [line] = messages(err)
    assert (
      line.startswith("nesterov-jax: error:")
      and "rerun every process with the same command" in line
    ), line
    assert (
      ("process 1 of 2" in line)
      if how == signal.SIGKILL
      else ("stopped answering for 10 s" in line)
    )
    assert str(tmp_path / "jax_runtime.log") in line and (tmp_path / "jax_runtime.log").exists()
  finally:
    for p in procs:
      if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


@pytest.mark.slow
def test_a_run_that_succeeds_prints_its_progress_and_the_files_it_wrote_and_nothing_else(tmp_path):
  # A point that diverges: its std over seeds is NaN, which once printed a numpy warning.
  proc = start(
    tmp_path,
    "--config.num_updates=200",
    "--config.checkpoint_every=100",
    "--config.eval_every=100",
    "--config.grid.learning_rates=(0.01, 1000.0)",
  )
  out, err = proc.communicate(timeout=300)
  assert proc.returncode == 0, err
  assert messages(err) == [] and out.splitlines() == [
    f"wrote {tmp_path}/summary.md, error_curves.png, lr_mu_heatmap.png"
  ]
  assert any(r["diverged"] for r in json.loads((tmp_path / "results.json").read_text()))


def test_a_warning_during_a_run_goes_into_its_provenance_and_summary_not_the_terminal(
  tmp_path, monkeypatch, capsys
):
  from nesterov_jax.engine import report, train
  from nesterov_jax.engine.config import load_config

  make_task = train.make_task

  def warning_task(config):
    warnings.warn("the task's data are older than its code")
    return make_task(config)

  monkeypatch.setattr(train, "make_task", warning_task)
  config = load_config(SMOKE, ["num_updates=100", "checkpoint_every=100", "eval_every=100"])
  train.prepare_workdir(tmp_path, config)
  records = train.run(config, tmp_path)
  report.write_report(tmp_path)
  assert "older than its code" not in capsys.readouterr().err
  [line] = records[0]["provenance"]["warnings"]
  assert line.startswith(
    "UserWarning: the task's data are older than its code (test_preemption.py:"
  )
  assert (
    "Warnings during the run: UserWarning: the task's data are older"
    in (tmp_path / "summary.md").read_text()
  )
