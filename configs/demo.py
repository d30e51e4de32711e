"""The quick start's main job: Section 2 on quadratics, then one of Section 3's findings on the
paper's own protocol, in a few minutes on a 2-core CPU.

    nesterov-jax run configs/demo.py          # writes runs/demo/{quadratic,curves}/

curves: the Curves autoencoder of Table 1 trained exactly as the paper trains it (minibatches
of 200, Eq. 5 with period 250, the last 1000 updates at μ = 0.9), for the first DEMO_UPDATES
updates instead of 750,000, on 20,000 training curves from our calibrated generator, as
many as the paper's (1,000 held out, where the paper holds out 10,000): plain SGD against
NAG with μ_max = 0.9 and 0.99, each at the learning rate the committed Curves pilot chose
for it (results/curves_calibrated_pilot). It shows two of the paper's findings: momentum
with Eq. 5's schedule reaches a far lower error than SGD, and a higher μ_max a lower one.
table1.md puts the numbers beside the paper's (after 750,000 updates).
"""

import pathlib

import ml_collections

from nesterov_jax.paper import protocols
from nesterov_jax.engine.config import load_config

HERE = pathlib.Path(__file__).parent
DEMO_UPDATES = 10_000
# The Curves pilot's choice (results/curves_calibrated_pilot/summary.md).
LEARNING_RATES = {("nag", 0.0): 0.05, ("nag", 0.9): 0.05, ("nag", 0.99): 0.01}


def get_config(preset: str = "paper_schedule") -> ml_collections.ConfigDict:
  protocols.check_preset(preset, ("paper_schedule", "smoke"))
  config = ml_collections.ConfigDict()
  config.experiment = "demo"
  smoke = preset == "smoke"
  config.quadratic = load_config(
    f"{HERE / 'quadratic.py'}:{'smoke' if smoke else 'scaled_schedule'}"
  )
  curves = (
    load_config(f"{HERE / 'curves_ae.py'}:smoke") if smoke else protocols.autoencoder("curves_ae")
  )
  if not smoke:
    curves.num_updates = DEMO_UPDATES
    curves.chunk_size, curves.eval_every, curves.checkpoint_every = 500, 1000, 2000
    curves.task.num_test = 1_000
    curves.grid.points = tuple((opt, mu, lr) for (opt, mu), lr in LEARNING_RATES.items())
  config.curves = curves
  return config
