"""Table 5, the addition problem at T = 80: a tanh RNN of 100 units, echo-state initialized.

    nesterov-jax run configs/rnn_addition.py:paper_length  # 50,000 updates, 3 ε, seed 0
    nesterov-jax run configs/rnn_addition.py:paper_length_nag  # its μ0 = 0 and NAG half, and
    nesterov-jax run configs/rnn_addition.py:paper_length_cm   # its CM half: merge the two with
    nesterov-jax merge runs/rnn_addition_paper_length runs/rnn_addition_paper_length_nag runs/rnn_addition_paper_length_cm
    nesterov-jax run configs/rnn_addition.py:modern_paper_length  # Adam, RMSProp (not in the paper), to merge
    nesterov-jax run configs/rnn_addition.py:seeds         # seeds 1-3 at CHOSEN_LEARNING_RATES, to merge
    nesterov-jax run configs/rnn_addition.py:modern_seeds  # Adam, RMSProp at seeds 1-3, to merge
    nesterov-jax run configs/rnn_addition.py:pilot         # 5 ε, 10,000 updates
    nesterov-jax run configs/rnn_addition.py:pilot_halving # the pilot, losing ε stopped at rungs (successive halving)
    nesterov-jax run configs/rnn_addition.py:full          # the paper's protocol exactly (112 runs)
    nesterov-jax run configs/rnn_addition.py:smoke         # seconds, for the tests

Every preset but smoke is at the paper's T = 80, with minibatches of 100 fresh sequences,
μ = 0.9 for the first 1000 updates, then μ0 ∈ {0, 0.9, 0.98, 0.995}, NAG and CM, errors on
fixed sequences (10,000; the pilot's 2,000). full: ε ∈ {1e-3, 1e-4, 1e-5, 1e-6} × 4 seeds,
50,000 updates. pilot: the same 4 ε and 1e-7, seed 0, the first 10,000 updates.
paper_length: 50,000 updates, seed 0, ε ∈ PAPER_LENGTH_LEARNING_RATES (below: the paper's
grid less the ε that diverged for every setting in results/rnn_addition_pilot), each setting's
ε chosen by the paper's rule at the end.
"""

from nesterov_jax.paper import protocols

# The paper's grid less 1e-3, which diverged within 34 updates for every setting in the pilot.
PAPER_LENGTH_LEARNING_RATES = (1e-4, 1e-5, 1e-6)

# Each setting's ε at 50,000 updates on seed 0 (results/rnn_addition_paper_length_merged), at which
# the seeds preset runs seeds 1, 2 and 3.
CHOSEN_LEARNING_RATES = {
  ('nag', 0.0): 1e-5,
  ('nag', 0.9): 1e-4,
  ('nag', 0.98): 1e-5,
  ('nag', 0.995): 1e-5,
  ('cm', 0.9): 1e-4,
  ('cm', 0.98): 1e-5,
  ('cm', 0.995): 1e-6,
}
# Adam's and RMSProp's, on the same protocol (results/rnn_addition_paper_length_with_modern).
MODERN_LEARNING_RATES = {('adam', 0.0): 1e-4, ('rmsprop', 0.0): 1e-4}


def get_config(preset: str = "paper_length"):
  return protocols.rnn_preset(
    "addition",
    80,
    preset,
    PAPER_LENGTH_LEARNING_RATES,
    chosen_learning_rates=CHOSEN_LEARNING_RATES,
    modern_learning_rates=MODERN_LEARNING_RATES,
  )
