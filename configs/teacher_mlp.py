"""A small sweep on a synthetic task: the engine's reference config.

    nesterov-jax run configs/teacher_mlp.py                 # preset scaled_schedule: seconds
    nesterov-jax report runs/teacher_mlp_scaled_schedule

The task (regression onto a random tanh teacher network) is ours, not the paper's: it
exercises the engine in seconds. Every field starts at its default: the sweep's fields are
commented where they are defined (``nesterov_jax.engine.config.sweep_config``), the paper's
schedule section in ``nesterov_jax.paper.optimizers.schedule_config``; this file sets only
what differs. Presets: ``scaled_schedule`` (the default: 2,000 updates, Eq. 5's period and
finetuning tail scaled by 1/10, as its name says), ``full`` (20,000 updates on the paper's
schedule) and ``smoke`` (for the tests).
"""

import ml_collections

from nesterov_jax.paper import sweep_config


def get_config(preset: str = "scaled_schedule") -> ml_collections.ConfigDict:
  if preset not in ("full", "scaled_schedule", "smoke"):
    raise ValueError("presets are full, scaled_schedule, smoke")
  config = sweep_config("teacher_mlp", 2000, eval_every=500, checkpoint_every=500)
  config.chunk_size = 100
  config.task.num_train = 2000
  config.task.num_test = 500
  config.task.input_dim = 16
  config.task.hidden = 32
  config.task.batch_size = 50
  config.task.data_seed = 0
  config.grid.optimizers = ("cm", "nag")
  config.grid.mu_max = (0.0, 0.9, 0.99)
  config.grid.learning_rates = (0.1, 0.03, 0.01)
  config.grid.init_scale = (1.0,)  # a task axis: the student's initial-weight multiplier
  config.schedule.period = 25.0  # Eq. 5's 250, scaled by 1/10 with the run's length
  config.schedule.finetune_steps = 100  # the paper's final 1000 updates at μ = 0.9, scaled

  if preset == "full":
    config.num_updates = 20_000
    config.schedule.period = 250.0
    config.schedule.finetune_steps = 1000
    config.chunk_size = 1000
    config.eval_every = config.checkpoint_every = 5000
  if preset == "smoke":
    config.num_updates = 200
    config.chunk_size = 50
    config.eval_every = config.checkpoint_every = 100
    config.schedule.period = 10.0
    config.schedule.finetune_steps = 50
  return config
