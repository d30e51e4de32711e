"""Table 5, the addition problem at T = 80: a tanh RNN of 100 units, echo-state initialized.

    nesterov-jax run configs/rnn_addition.py:full    # the paper's protocol exactly (one compiled program)
    nesterov-jax run configs/rnn_addition.py:cpu     # minutes on a 2-core CPU
    nesterov-jax run configs/rnn_addition.py:smoke   # seconds, for the tests

full: 50,000 updates of 100 fresh sequences, μ = 0.9 for the first 1000 updates then
μ0 ∈ {0, 0.9, 0.98, 0.995}, NAG and CM, ε ∈ {1e-3, 1e-4, 1e-5, 1e-6}, 4 seeds: 112 runs in
one program; errors on 10,000 fixed sequences.

cpu: T = 20 instead of 80 (a dependency four times shorter), 4,000 updates (μ = 0.9 for the
first 80), ε ∈ {1e-3, 1e-4}, 2 seeds; errors on 2,000 fixed sequences.
"""

from nesterov_jax import protocols


def get_config(preset: str = "cpu"):
  return protocols.rnn_preset("addition", 80, preset, cpu_length=20, cpu_updates=4000, smoke_length=20)
