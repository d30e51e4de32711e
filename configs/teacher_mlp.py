"""A small sweep on a synthetic task: the engine's reference config, documenting every field.

    nesterov-jax run configs/teacher_mlp.py                 # preset scaled_schedule: seconds
    nesterov-jax report runs/teacher_mlp_scaled_schedule

The task (regression onto a random tanh teacher network) is ours, not the paper's: it
exercises the engine in seconds. The protocol fields are the ones every sweep config has.
Presets: ``scaled_schedule`` (the default: 2,000 updates, Eq. 5's period and finetuning tail
scaled by 1/10, as its name says), ``full`` (20,000 updates on the paper's schedule) and
``smoke`` (for the tests).
"""

import ml_collections


def get_config(preset: str = "scaled_schedule") -> ml_collections.ConfigDict:
  if preset not in ("full", "scaled_schedule", "smoke"):
    raise ValueError("presets are full, scaled_schedule, smoke")
  config = ml_collections.ConfigDict()
  config.experiment = "sweep"

  config.task = ml_collections.ConfigDict()
  config.task.name = "teacher_mlp"
  config.task.num_train = 2000
  config.task.num_test = 500
  config.task.input_dim = 16
  config.task.hidden = 32
  config.task.batch_size = 50
  config.task.data_seed = 0

  # The grid is the Cartesian product of these axes (μ_max = 0 of CM and NAG kept once, as
  # plain SGD). Optimizers: the paper's cm, nag (and hf, alone, with a config.hf section), any
  # optax alias ("adam", "rmsprop", "sgd", ...: ε is its learning rate, μ_max its momentum
  # argument if it has one, else it runs once per ε), or "MODULE:FUNCTION", your factory
  # (hparams) -> optax.GradientTransformation. Any other field here is an axis of the task's
  # hyperparameters (this task has init_scale) or of an optimizer's arguments (adam's b1).
  config.grid = ml_collections.ConfigDict()
  config.grid.optimizers = ("cm", "nag")
  config.grid.mu_max = (0.0, 0.9, 0.99)
  config.grid.learning_rates = (0.1, 0.03, 0.01)
  config.grid.seeds = (0,)
  config.grid.init_scale = (1.0,)
  # (optimizer, μ_max, ε) triples that replace optimizers × mu_max × learning_rates, so each
  # setting runs at its own ε (seeds and task axes still multiply); () = the product.
  config.grid.points = ()
  # Fixed (not swept) arguments per optimizer, recorded with every result, e.g.
  # optimizer_args.adam = dict(b2=0.999, eps=1e-8); --config.optimizer_args.adam.b2=0.99 works too.
  config.optimizer_args = ml_collections.ConfigDict()

  # μ[t]: "eq5" (Eq. 5 with the finetuning tail), "rnn" (Section 4) or "constant" (μ_max).
  config.schedule = ml_collections.ConfigDict()
  config.schedule.kind = "eq5"
  config.schedule.period = 25.0          # Eq. 5's 250, scaled by 1/10 with the run's length
  config.schedule.finetune_steps = 100   # the paper's final 1000 updates at μ = 0.9, scaled
  config.schedule.finetune_momentum = 0.9
  config.schedule.warmup_steps = 1000    # for kind = "rnn"
  config.schedule.warmup_momentum = 0.9

  config.num_updates = 2000
  config.chunk_size = 100        # updates per compiled lax.scan call; the host acts between chunks
  config.eval_every = 500        # full-training-set error every this many updates (0: end only)
  config.checkpoint_every = 500  # orbax checkpoint every this many updates (0: end only)
  config.precision = "highest"   # matmul precision: default | high | highest (paper: fp32)
  # Each setting's ε: the lowest final_train_error (the paper's rule) or final_train_loss
  # (the training objective over the last 1000 updates, for pilots too short to move the error).
  config.selection = "final_train_error"

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
