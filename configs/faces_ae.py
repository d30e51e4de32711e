"""Table 1, Faces row (and Table 2's Faces entry): the 625-2000-1000-500-30 autoencoder.

    nesterov-jax run configs/faces_ae.py:full     # the paper's protocol exactly
    nesterov-jax run configs/faces_ae.py:cpu      # ~10 minutes on a 2-core CPU
    nesterov-jax run configs/faces_ae.py:smoke    # seconds, for the tests

full: 750,000 updates of 200 cases, Eq. 5 (period 250) with μ_max ∈ {0, 0.9, 0.99, 0.995,
0.999}, NAG and CM, the paper's six learning rates, the last 1000 updates at μ = 0.9, linear
outputs and squared error; newfaces_rot_single.mat via task.data_dir (103,500 train / 41,400
test), else the same number of faces built from scikit-image's 100 LFW faces.

cpu: 3,000 training / 600 test faces built from scikit-image's; 300 updates (1/2,500 of the
paper's), Eq. 5's period 0.1 updates (μ reaches 0.999 after 50 updates), the finetuning tail
the last 30 updates; the three largest learning rates. The largest network of the three: on
two cores one update of the whole grid takes about 2 s.
"""

from nesterov_jax import protocols


def get_config(preset: str = "cpu"):
  protocols.check_preset(preset)
  config = protocols.autoencoder("faces_ae")
  if preset == "cpu":
    protocols.scale_updates(config, 300, chunk_size=30, num_evals=3)
    config.task.num_train, config.task.num_test = 3_000, 600
    config.grid.learning_rates = (0.05, 0.01, 0.005)
  if preset == "smoke":
    protocols.scale_updates(config, 20, chunk_size=10, num_evals=2)
    config.task.num_train, config.task.num_test = 200, 50
    config.task.eval_batch_size = 200
    config.grid.mu_max = (0.0, 0.99)
    config.grid.learning_rates = (0.005,)
  return config
