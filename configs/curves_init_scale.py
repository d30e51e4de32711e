"""Table 3: the multiplier on the sparse initialization's scale, Curves, NAG at μ_max = 0.999.

    nesterov-jax run configs/curves_init_scale.py:full
    nesterov-jax run configs/curves_init_scale.py:cpu     # ~6 minutes on a 2-core CPU

The protocol (and each preset's scaling) is configs/curves_ae.py's; only the grid differs:
the best NAG setting of Table 1 (μ_max = 0.999) with the init scale multiplied by {0.25, 0.5,
1, 2, 4}. The paper does not say whether ε was re-tuned per scale; we select the best of the
preset's learning rates per scale, as for Table 1.
"""

import pathlib

from nesterov_jax.config import load_config

HERE = pathlib.Path(__file__).parent


def get_config(preset: str = "cpu"):
  config = load_config(f"{HERE / 'curves_ae.py'}:{preset}")
  with config.unlocked():
    config.grid.optimizers = ("nag",)
    config.grid.mu_max = (0.999,)
    config.grid.init_scale = (0.25, 0.5, 1.0, 2.0, 4.0) if preset != "smoke" else (0.25, 1.0)
  return config
