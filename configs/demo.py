"""The quick start's main job: Section 2 on quadratics plus a small Curves sweep, in minutes on a CPU.

    nesterov-jax run configs/demo.py          # writes runs/demo/{quadratic,curves}/

The Curves part is a slice of Table 1's Curves row at toy scale: plain SGD, CM and NAG at
μ_max ∈ {0.9, 0.99}, each at the better of ε ∈ {0.05, 0.01} (the paper's selection rule),
2,000 updates of 200 cases on 3,000 generated curves (Eq. 5's period scaled to 0.67 updates,
the last 200 updates at μ = 0.9). At this length the deep network is still leaving the
plateau where it outputs the mean curve (error ≈ 32.6). For the real rows see
configs/curves_ae.py, mnist_ae.py and faces_ae.py.
"""

import pathlib

import ml_collections

from nesterov_jax import protocols
from nesterov_jax.config import load_config

HERE = pathlib.Path(__file__).parent


def get_config(preset: str = "cpu") -> ml_collections.ConfigDict:
  protocols.check_preset(preset)
  config = ml_collections.ConfigDict()
  config.experiment = "demo"
  config.quadratic = load_config(f"{HERE / 'quadratic.py'}:{'smoke' if preset == 'smoke' else 'cpu'}")
  curves = load_config(f"{HERE / 'curves_ae.py'}:smoke") if preset == "smoke" else protocols.autoencoder("curves_ae")
  if preset != "smoke":
    protocols.scale_updates(curves, 2000, chunk_size=100, num_evals=10)
    curves.task.num_train, curves.task.num_test = 3_000, 1_000
    curves.grid.mu_max = (0.0, 0.9, 0.99)
    curves.grid.learning_rates = (0.05, 0.01)
  config.curves = curves
  return config
