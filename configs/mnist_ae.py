"""Table 1, MNIST row (and Table 2's MNIST entry): the 784-1000-500-250-30 autoencoder.

    nesterov-jax run configs/mnist_ae.py:full     # the paper's protocol exactly (set task.data_dir)
    nesterov-jax run configs/mnist_ae.py:cpu      # ~10 minutes on a 2-core CPU
    nesterov-jax run configs/mnist_ae.py:smoke    # seconds, for the tests

full: 750,000 updates of 200 cases, Eq. 5 (period 250) with μ_max ∈ {0, 0.9, 0.99, 0.995,
0.999}, NAG and CM, the paper's six learning rates, the last 1000 updates at μ = 0.9, on the
60,000 MNIST training digits: point task.data_dir (or $NESTEROV_JAX_DATA) at a folder with
the IDX files or mnist_all.mat. Without it, full runs on the embedded 5,000 digits.

cpu: the embedded 5,000 real digits (4,000 train / 1,000 held out); 800 updates (1/937 of
the paper's), Eq. 5's period 250 × 800/750,000 ≈ 0.27 updates, the finetuning tail the last
80 updates; the three largest learning rates.
"""

from nesterov_jax import protocols


def get_config(preset: str = "cpu"):
  protocols.check_preset(preset)
  config = protocols.autoencoder("mnist_ae")
  if preset == "cpu":
    protocols.scale_updates(config, 800, chunk_size=40, num_evals=4)
    config.task.num_test = 1_000
    config.grid.learning_rates = (0.05, 0.01, 0.005)
  if preset == "smoke":
    protocols.scale_updates(config, 20, chunk_size=10, num_evals=2)
    config.task.num_test = 1_000
    config.task.eval_batch_size = 1000
    config.grid.mu_max = (0.0, 0.99)
    config.grid.learning_rates = (0.01,)
  return config
