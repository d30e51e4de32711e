"""Section 2 on quadratics: the oblong-valley figure, Theorem 2.1's effective momentum, and
CM vs NAG vs gradient descent on an ill-conditioned quadratic.

    nesterov-jax run configs/quadratic.py            # preset scaled_schedule (the default), seconds
    nesterov-jax run configs/quadratic.py:full       # 30,000 steps with Eq. 5's period of 250
    nesterov-jax run configs/quadratic.py:smoke      # a tiny version for the tests

Presets: ``full`` and ``scaled_schedule`` are the same problem (it is cheap); ``full`` runs
10x longer with Eq. 5's period of 250, ``scaled_schedule`` 3,000 steps with the period
scaled to 25 (its name says that its schedule is not the paper's). The paper gives no
numbers for its figure, so the problem sizes here are our choice.
"""

import ml_collections


def get_config(preset: str = "scaled_schedule") -> ml_collections.ConfigDict:
  if preset not in ("full", "scaled_schedule", "smoke"):
    raise ValueError("presets are full, scaled_schedule, smoke")
  config = ml_collections.ConfigDict()
  config.experiment = "quadratic"

  # The 2-D oblong quadratic of the paper's figure: f = ½(λ_1 x² + λ_2 y²), with a
  # shallow direction along the valley and a steep one across it.
  config.oblong = ml_collections.ConfigDict()
  config.oblong.eigenvalues = (0.02, 1.0)
  config.oblong.start = (-4.0, 1.0)
  config.oblong.learning_rate = 0.9  # ελ_2 = 0.9: NAG's effective μ across the valley is μ·0.1
  config.oblong.momentum = 0.95
  config.oblong.steps = 60

  # Theorem 2.1's plot: μ(1 − λε) against λε, one curve per μ.
  config.effective_momenta = (0.9, 0.99, 0.999)

  # An ill-conditioned quadratic: log-spaced spectrum in [1/κ, 1], random rotation.
  config.ill = ml_collections.ConfigDict()
  config.ill.dim = 100
  config.ill.condition_number = 1e4
  config.ill.learning_rate = 1.0  # = 1/λ_max: the largest safe step for gradient descent
  config.ill.momenta = (0.9, 0.99)  # constant μ, for CM and NAG
  config.ill.schedule_mu_max = 0.999  # plus one run each with Eq. 5's schedule
  config.ill.schedule_period = 25  # Eq. 5's 250, scaled to the shorter run
  config.ill.steps = 3000
  config.seed = 0

  if preset == "full":
    config.ill.steps = 30_000
    config.ill.schedule_period = 250
  if preset == "smoke":
    config.oblong.steps = 10
    config.ill.dim = 8
    config.ill.steps = 50
    config.ill.schedule_period = 5
  return config
