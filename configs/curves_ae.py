"""Table 1, Curves row (and Table 2's Curves entry): the 784-400-200-100-50-25-6 autoencoder.

    nesterov-jax run configs/curves_ae.py:full    # the paper's protocol exactly (GPU: hours)
    nesterov-jax run configs/curves_ae.py:cpu     # ~10 minutes on a 2-core CPU
    nesterov-jax run configs/curves_ae.py:smoke   # seconds, for the tests

full: 750,000 updates of 200 cases, Eq. 5 (period 250) with μ_max ∈ {0, 0.9, 0.99, 0.995,
0.999}, NAG and CM, ε ∈ {0.05, 0.01, 0.005, 0.001, 0.0005, 0.0001}, the last 1000 updates at
μ = 0.9; 20,000 generated training curves (or digs3pts_1.mat via task.data_dir).

cpu: 2,000 updates (1/375 of the paper's), so Eq. 5's period becomes 250/375 ≈ 0.67 updates
(μ reaches each μ_max at the same fraction of the run) and the finetuning tail is the last
200 updates; 10,000 training / 2,000 test curves; the three largest learning rates
(short runs favour large steps). Table 2's numbers come from the same run.
"""

from nesterov_jax import protocols


def get_config(preset: str = "cpu"):
  protocols.check_preset(preset)
  config = protocols.autoencoder("curves_ae")
  if preset == "cpu":
    protocols.scale_updates(config, 2000, chunk_size=100, num_evals=5)
    config.task.num_train, config.task.num_test = 10_000, 2_000
    config.grid.learning_rates = (0.05, 0.01, 0.005)
  if preset == "smoke":
    protocols.scale_updates(config, 40, chunk_size=20, num_evals=2)
    config.task.num_train, config.task.num_test = 400, 100
    config.task.eval_batch_size = 200
    config.grid.mu_max = (0.0, 0.99)
    config.grid.learning_rates = (0.01,)
  return config
