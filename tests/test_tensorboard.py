"""Live TensorBoard (engine/tensorboard.py): each point's event files equal metrics.jsonl step
for step, carry the same hyperparameter keys, survive a resume without a step written twice,
end a halted point's curves at its stop, and tensorboard itself serves the HParams data."""

import json
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from nesterov_jax.engine import results, tensorboard, train
from nesterov_jax.engine.config import load_config

ROOT = pathlib.Path(__file__).parents[1]
SMOKE = f"{ROOT / 'configs' / 'teacher_mlp.py'}:smoke"
SEARCH = ["tensorboard=True", "grid.optimizers=('nag', 'cm')", "grid.search.num_points=3"]


def sweep(workdir, *overrides):
  config = load_config(SMOKE, [*SEARCH, *overrides])
  train.prepare_workdir(workdir, config)
  return train.run(config, workdir)


def board(workdir):
  """{point folder: EventAccumulator}, read back as tensorboard reads them."""
  out = {}
  for folder in sorted((workdir / tensorboard.FOLDER).iterdir()):
    events = EventAccumulator(str(folder))
    events.Reload()
    out[folder.name] = events
  return out


def scalars(events, tag):
  return [(e.step, e.value) for e in events.Scalars(tag)] if tag in events.Tags()["scalars"] else []


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("board")
  return workdir, sweep(workdir)


def test_each_points_event_files_equal_metrics_jsonl_step_for_step(run):
  workdir, records = run
  lines = results.load_metrics(workdir)
  boards = board(workdir)
  assert len(boards) == len(records) == 6
  for i, events in enumerate(boards.values()):
    for tag in ("train_loss", "train_error", "test_error"):
      expected = [(m["step"], np.float32(m[tag][i])) for m in lines if tag in m]
      assert scalars(events, tag) == expected, tag
    momentum = scalars(events, "momentum")
    assert [s for s, _ in momentum] == [m["step"] for m in lines] and 0.0 <= min(
      v for _, v in momentum
    )


def test_every_point_carries_the_same_hyperparameter_keys_in_its_own_run(run):
  from tensorboard.plugins.hparams import plugin_data_pb2

  workdir, records = run
  for (name, events), record in zip(board(workdir).items(), records):
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    data = plugin_data_pb2.HParamsPluginData.FromString(content)
    values = {
      k: (v.string_value or v.number_value) for k, v in data.session_start_info.hparams.items()
    }
    assert set(values) == {"optimizer", "mu_max", "learning_rate", "seed", "init_scale"}
    assert values["optimizer"] == record["optimizer"] and np.float32(
      values["learning_rate"]
    ) == np.float32(record["learning_rate"])
    assert name.endswith(tensorboard.point_name(0, {k: record[k] for k in values})[3:])


def test_a_resumed_run_writes_no_step_twice(tmp_path):
  whole = tmp_path / "whole"
  sweep(whole)
  # A run that died after its checkpoint at 100 had written events up to 150: the rerun keeps
  # the record's lines up to 100 and rewrites the event files from them.
  workdir = tmp_path / "resumed"
  sweep(workdir, "checkpoint_every=100")
  shutil.rmtree(workdir / "checkpoints" / "200")
  (workdir / "results.json").unlink()
  sweep(workdir, "checkpoint_every=100")
  for events, reference in zip(board(workdir).values(), board(whole).values()):
    steps = [s for s, _ in scalars(events, "train_loss")]
    assert steps == sorted(set(steps)) and steps == [s for s, _ in scalars(reference, "train_loss")]


def test_a_point_halving_stopped_ends_its_curves_at_its_stop(tmp_path):
  records = sweep(
    tmp_path,
    "grid.search.num_points=4",
    "halving.rungs=(100,)",
    "halving.eta=2.0",  # per optimizer
    "halving.window=50",
    "halving.metric='train_loss'",
  )
  stopped = [i for i, r in enumerate(records) if r["stopped_at"] < r["num_updates"]]
  assert stopped
  for i, events in enumerate(board(tmp_path).values()):
    last = scalars(events, "train_loss")[-1][0]
    assert last == (records[i]["stopped_at"] if i in stopped else records[i]["num_updates"])


@pytest.mark.slow
def test_tensorboard_serves_the_sweeps_hparams_without_tensorflow(run):
  workdir, records = run
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  server = subprocess.Popen(
    [
      sys.executable,
      "-m",
      "tensorboard.main",
      "--logdir",
      str(workdir / tensorboard.FOLDER),
      "--host",
      "127.0.0.1",
      "--port",
      str(port),
    ],
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
  )
  try:
    request = json.dumps(
      {
        "experimentName": "",
        "startIndex": 0,
        "sliceSize": 100,
        "colParams": [],
        "allowedStatuses": ["STATUS_FAILURE", "STATUS_RUNNING", "STATUS_SUCCESS", "STATUS_UNKNOWN"],
      }
    )
    deadline = time.time() + 120
    while True:
      try:
        reply = urllib.request.urlopen(
          urllib.request.Request(
            f"http://127.0.0.1:{port}/data/plugin/hparams/session_groups",
            data=request.encode(),
            headers={"Content-Type": "application/json"},
          ),
          timeout=10,
        ).read()
        groups = json.loads(reply)["sessionGroups"]
        if len(groups) == len(records):
          break
      except OSError:
        pass
      assert time.time() < deadline, "tensorboard did not serve the HParams data"
      time.sleep(1)
    finals = {g["name"]: {m["name"]["tag"]: m["value"] for m in g["metricValues"]} for g in groups}
    for name, record in zip(sorted(finals), records):
      assert finals[name]["train_error"] == pytest.approx(record["final_train_error"], rel=1e-6)
  finally:
    server.terminate()
    server.wait()
