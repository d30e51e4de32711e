"""Every config's presets: they build, and every one but smoke keeps the paper's protocol in
absolute terms (Eq. 5's period 250 with the last 1000 updates at μ = 0.9; the RNN warm-up of
1000 updates at μ = 0.9), shortening only the run."""

import pathlib

import pytest

from nesterov_jax import sweep
from nesterov_jax.config import ConfigError, load_config

CONFIGS = pathlib.Path(__file__).parents[1] / "configs"
PRESETS = {
    "curves_ae": ("full", "pilot", "updates_50k", "smoke"),
    "mnist_ae": ("full", "pilot", "updates_30k", "smoke"),
    "faces_ae": ("full", "pilot", "updates_15k", "smoke"),
    "curves_init_scale": ("full", "updates_50k", "smoke"),
    "rnn_addition": ("full", "pilot", "paper_length", "smoke"),
    "rnn_multiplication": ("full", "pilot", "paper_length", "smoke"),
    "rnn_memorization5": ("full", "pilot", "paper_length", "smoke"),
    "rnn_memorization20": ("full", "pilot", "paper_length", "smoke"),
    "hf_curves": ("full", "shortened", "smoke"),
    "hf_mnist": ("full", "shortened", "smoke"),
}
RNN_LENGTH = {"rnn_addition": 80, "rnn_multiplication": 80, "rnn_memorization5": 200, "rnn_memorization20": 80}


def sweeps(config):
  """The sweep configs inside an experiment config (an hf experiment holds three)."""
  return [config[k] for k in ("classic", "hybrid", "nag") if k in config] or [config]


@pytest.mark.parametrize("name, preset", [(n, p) for n, presets in PRESETS.items() for p in presets])
def test_every_preset_builds_and_keeps_the_papers_schedule(name, preset):
  try:
    config = load_config(f"{CONFIGS / name}.py:{preset}")
  except ConfigError as e:  # a preset that needs its pilot's results says so
    assert "pilot" in str(e) or "first" in str(e), e
    return
  for run in sweeps(config):
    sweep.validate(run)
    if preset == "smoke" or run.schedule.kind == "constant":  # HF's phases set their own ζ and ε
      continue
    if run.schedule.kind == "eq5":
      assert run.schedule.period == 250 and run.schedule.finetune_momentum == 0.9
      assert run.schedule.finetune_steps == 1000 and run.task.batch_size == 200
    else:
      assert run.schedule.warmup_steps == 1000 and run.schedule.warmup_momentum == 0.9
      assert run.task.batch_size == 100 and run.task.length == RNN_LENGTH[name]


def test_no_config_offers_a_preset_it_does_not_document():
  for path in CONFIGS.glob("*.py"):
    with pytest.raises(ConfigError, match="not available"):
      load_config(f"{path}:cpu")
