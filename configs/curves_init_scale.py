"""Table 3: the multiplier on the sparse initialization's scale, Curves, NAG at μ_max = 0.999.

    nesterov-jax run configs/curves_init_scale.py:updates_50k
    nesterov-jax run configs/curves_init_scale.py:full
    nesterov-jax run configs/curves_init_scale.py:v1_updates_50k  # on our first generator (results/curves_init_scale_*)

The protocol (and each preset's shortening) is configs/curves_ae.py's; only the grid differs:
the paper's best NAG setting of Table 1 (μ_max = 0.999) with the sparse initialization's
scale multiplied by {0.25, 0.5, 1, 2, 4}. The paper does not say whether ε was re-tuned per
scale; full selects the best of the paper's six per scale, updates_50k runs every scale at
the ε that Curves' 50,000-update run selected for 0.999N (NAG_0999_LEARNING_RATE below). To
tune ε per scale at 50,000 updates, run the other scales at that ε's two neighbours on the
paper's grid and merge, then step past any best ε at the edge of what ran (each scale is then
reported at its own best ε: results/curves_calibrated_init_scale_50k_merged/, which took two
such steps, to 0.001 and 0.0005; on the first generator results/curves_init_scale_updates_50k_merged/):

    nesterov-jax run configs/curves_init_scale.py:updates_50k --workdir runs/init_scale_per_scale \
        "--config.grid.points=(('nag', 0.999, 0.05), ('nag', 0.999, 0.005))" \
        --config.grid.init_scale='(0.25, 0.5, 2.0, 4.0)'
    nesterov-jax merge runs/init_scale_merged runs/curves_init_scale_updates_50k runs/init_scale_per_scale
"""

import pathlib

from nesterov_jax.engine.config import load_config
from nesterov_jax.paper import protocols

HERE = pathlib.Path(__file__).parent
CURVES = HERE / "curves_ae.py"
# 0.999N's best ε at 50,000 updates on the calibrated generator (configs/curves_ae.py's
# BEST_LEARNING_RATES; results/curves_calibrated_50k_merged: 0.108; 0.005: 0.144), and on our
# first generator, v1 (results/curves_ae_updates_50k_merged: 2.48; 0.005: 10.1), which made
# results/curves_init_scale_*.
NAG_0999_LEARNING_RATE = 0.01
V1_NAG_0999_LEARNING_RATE = 0.001


SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)


def _table3(config, scales=SCALES):
  """Table 3's grid on a Curves config: NAG at μ_max 0.999, the init scale swept."""
  with config.unlocked():
    config.grid.optimizers = ("nag",)
    config.grid.mu_max = (0.999,)
    config.grid.init_scale = scales
  return config


def full():
  """configs/curves_ae.py's full protocol; the best of the paper's six ε per scale."""
  return _table3(load_config(f"{CURVES}:full"))


def updates_50k(v1=False):
  """50,000 updates, every scale at 0.999N's best ε at 50,000 updates."""
  learning_rate = V1_NAG_0999_LEARNING_RATE if v1 else NAG_0999_LEARNING_RATE
  if learning_rate is None:
    raise ValueError("run configs/curves_ae.py:updates_50k first: its best ε for 0.999N goes here")
  config = _table3(load_config(f"{CURVES}:{'v1_full' if v1 else 'full'}"))
  with config.unlocked():
    config.num_updates = 50_000
    config.chunk_size, config.eval_every, config.checkpoint_every = 500, 2500, 5000
    config.grid.learning_rates = (learning_rate,)
  return config


def v1_updates_50k():
  """updates_50k on our first generator (results/curves_init_scale_*)."""
  return updates_50k(v1=True)


def smoke():
  """Seconds, for the tests: two scales."""
  return _table3(load_config(f"{CURVES}:smoke"), scales=(0.25, 1.0))


PRESETS = {
  "updates_50k": updates_50k,
  "v1_updates_50k": v1_updates_50k,
  "full": full,
  "smoke": smoke,
}


def get_config(preset: str = "updates_50k"):
  return protocols.preset(PRESETS, preset)
