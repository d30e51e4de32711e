"""Table 5, the memorization5 problem at T = 200: a tanh RNN of 100 units, echo-state initialized.

    nesterov-jax run configs/rnn_memorization5.py:full    # the paper's protocol exactly (one compiled program)
    nesterov-jax run configs/rnn_memorization5.py:cpu     # minutes on a 2-core CPU
    nesterov-jax run configs/rnn_memorization5.py:smoke   # seconds, for the tests

full: 50,000 updates of 100 fresh sequences, μ = 0.9 for the first 1000 updates then
μ0 ∈ {0, 0.9, 0.98, 0.995}, NAG and CM, ε ∈ {1e-3, 1e-4, 1e-5, 1e-6}, 4 seeds: 112 runs in
one program; errors on 10,000 fixed sequences.

cpu: T = 20 instead of 200 (the T blank steps), 3,000 updates (μ = 0.9 for the first
60), ε ∈ {1e-3, 1e-4}, 2 seeds; errors on 2,000 fixed sequences.
"""

from nesterov_jax import protocols


def get_config(preset: str = "cpu"):
  return protocols.rnn_preset("memorization5", 200, preset, cpu_length=20, cpu_updates=3000, smoke_length=20)
