"""Table 3: the multiplier on the sparse initialization's scale, Curves, NAG at μ_max = 0.999.

    nesterov-jax run configs/curves_init_scale.py:full
    nesterov-jax run configs/curves_init_scale.py:cpu     # ~6 minutes on a 2-core CPU

The paper reports the best NAG setting of Table 1 (μ_max = 0.999) with the init scale
multiplied by {0.25, 0.5, 1, 2, 4}. It does not say whether ε was re-tuned per scale; we
select the best of the learning rates per scale, as for Table 1. Presets scale as in
configs/curves_ae.py (cpu: 2,000 updates, 10,000 curves, ε ∈ {0.05, 0.01, 0.005}).
"""

from nesterov_jax import protocols


def get_config(preset: str = "cpu"):
  protocols.check_preset(preset)
  config = protocols.autoencoder("curves_ae")
  config.grid.optimizers = ("nag",)
  config.grid.mu_max = (0.999,)
  config.grid.init_scale = (0.25, 0.5, 1.0, 2.0, 4.0)
  if preset == "cpu":
    protocols.scale_updates(config, 2000, chunk_size=100, num_evals=5)
    config.task.num_train, config.task.num_test = 10_000, 2_000
    config.grid.learning_rates = (0.05, 0.01, 0.005)
  if preset == "smoke":
    protocols.scale_updates(config, 40, chunk_size=20, num_evals=2)
    config.task.num_train, config.task.num_test = 400, 100
    config.task.eval_batch_size = 200
    config.grid.init_scale = (0.25, 1.0)
    config.grid.learning_rates = (0.01,)
  return config
