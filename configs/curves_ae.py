"""Table 1, Curves row (and Table 2's Curves entry): the 784-400-200-100-50-25-6 autoencoder.

    nesterov-jax run configs/curves_ae.py:pilot          # the paper's six ε, 10,000 updates
    nesterov-jax run configs/curves_ae.py:updates_50k    # 50,000 updates, each setting's pilot ε and its neighbours
    nesterov-jax run configs/curves_ae.py:updates_50k_nag  # its halves: SGD and NAG ...
    nesterov-jax run configs/curves_ae.py:updates_50k_cm   # ... and CM (about 85 and 70 minutes on 2 CPU cores)
    nesterov-jax run configs/curves_ae.py:modern_50k     # Adam, RMSProp (not in the paper) on updates_50k's protocol
    nesterov-jax run configs/curves_ae.py:seeds          # seeds 1, 2 at each setting's 50,000-update best ε, to merge
    nesterov-jax run configs/curves_ae.py:modern_seeds   # Adam, RMSProp at seeds 1, 2, to merge
    nesterov-jax run configs/curves_ae.py:updates_250k   # 250,000 updates: μ_max 0.99-0.999 long enough to apply
    nesterov-jax run configs/curves_ae.py:updates_750k   # the paper's length: NAG 0.99 and 0.999, seeds 0-2
    nesterov-jax run configs/curves_ae.py:pilot_halving  # the pilot, losing ε stopped at rungs (successive halving)
    nesterov-jax run configs/curves_ae.py:full           # the paper's protocol exactly (GPU: hours)
    nesterov-jax run configs/curves_ae.py:smoke          # seconds, for the tests
    nesterov-jax run configs/curves_ae.py:v1_updates_50k # v1_<preset>: <preset> on our first generator

The data: 20,000 training and 10,000 held-out curves from our generator calibrated to the
original file's published statistics (task.curves_generator = "calibrated";
nesterov_jax/paper/curves.py), or digs3pts_1.mat via task.data_dir. Every Curves run
committed before the calibrated generator used our first generator, "v1"; the presets
v1_<preset> rerun them, with the learning rates those runs chose (V1_* below).

Every preset but smoke keeps the paper's protocol and shortens only the run: minibatches of
200, Eq. 5 with period 250 and μ_max ∈ {0, 0.9, 0.99, 0.995, 0.999}, NAG and CM, the last
1000 updates at μ = 0.9.

- full: 750,000 updates, ε ∈ {0.05, 0.01, 0.005, 0.001, 0.0005, 0.0001}.
- pilot: the first 10,000 updates, the same six ε, μ_max ∈ {0, 0.9, 0.99}. Until update
  12,250, μ_max 0.995 and 0.999 follow 0.99's schedule exactly, so their runs would be 0.99's.
- updates_50k: 50,000 updates. Eq. 5 reaches 0.99 at 12,250 and 0.995 at 24,750; 0.999 would
  need 124,750, so 0.999 runs at μ ≤ 0.9975. Each setting runs at the ε its pilot chose
  (CHOSEN_LEARNING_RATES; 0.995 and 0.999 take 0.99's) and that ε's two neighbours on the
  paper's grid. For μ_max ≥ 0.99 the band is the pilot's ε and two steps lower (updates_50k).
- updates_250k: 250,000 updates on the same schedule (0.999 applies from update 124,750),
  NAG and CM at μ_max 0.99, 0.995 and 0.999, each at its 50,000-update best ε
  (BEST_LEARNING_RATES) and one step lower: 12 points, seed 0. One config alone on two CPU
  cores took 40 minutes, two in one run (one per device) take about 62: the whole grid
  about 6 hours. scripts/curves_long.py runs the points left in pairs, one run after
  another; then merge them:

    nohup python scripts/curves_long.py 250k > runs/logs/curves_250k.log 2>&1 &
    nesterov-jax merge results/curves_calibrated_250k_merged results/curves_calibrated_250k_[nc]*

- updates_750k: the paper's own length, NAG at μ_max 0.99 and 0.999 over seeds 0, 1 and 2,
  each at its 250,000-update best ε (LONG_BEST_LEARNING_RATES). One config alone on two CPU
  cores takes about 1.8 hours (results/curves_750k_timing/; scripts/time_curves_750k.sh), so
  the same script runs each (point, seed) as its own run, one device, one after another
  (``--max-runs 1`` runs one); then merge the six:

    nohup python scripts/curves_long.py 750k --max-runs 1 > runs/logs/curves_750k.log 2>&1 &
    nesterov-jax merge results/curves_calibrated_750k_merged results/curves_calibrated_750k_nag*

  A run stopped by SIGTERM or Ctrl-C resumes from its last checkpoint when rerun.
"""

import functools

from nesterov_jax.paper import protocols

# The calibrated generator's runs fill these in, each from the run its comment names.
# (optimizer, μ_max) → ε: the pilot's best learning rate per setting (results/curves_calibrated_pilot:
# SGD 6.52, 0.9N 2.26, 0.99N 0.779, 0.9M 2.24, 0.99M 0.945 after 10,000 updates). 0.05 is the top
# of the paper's grid, so those settings' bands step past it to 0.1.
CHOSEN_LEARNING_RATES = {
  ("nag", 0.0): 0.05,
  ("nag", 0.9): 0.05,
  ("nag", 0.99): 0.01,
  ("cm", 0.9): 0.05,
  ("cm", 0.99): 0.01,
}
# Each setting's ε at 50,000 updates on seed 0, at which the seeds preset runs seeds 1 and 2
# and updates_250k starts its band (results/curves_calibrated_50k_merged: each bracketed by a
# worse ε on both sides at 50,000 updates).
BEST_LEARNING_RATES = {
  ("nag", 0.0): 0.05,
  ("nag", 0.9): 0.01,
  ("nag", 0.99): 0.01,
  ("nag", 0.995): 0.01,
  ("nag", 0.999): 0.01,
  ("cm", 0.9): 0.01,
  ("cm", 0.99): 0.005,
  ("cm", 0.995): 0.005,
  ("cm", 0.999): 0.001,
}
# Adam's and RMSProp's at 50,000 updates on seed 0, at which modern_seeds runs seeds 1 and 2
# (results/curves_calibrated_50k_modern: each bracketed inside the grid 1e-2 ... 1e-4).
MODERN_LEARNING_RATES = {("adam", 0.0): 0.003, ("rmsprop", 0.0): 0.0003}
# NAG's ε at μ_max 0.99 and 0.999 after 250,000 updates on seed 0, at which updates_750k runs
# (results/curves_calibrated_250k_nag099_0.01_nag099_0.005, _nag0999_0.01,
# _nag0999_0.005_nag099_0.05 and _nag0999_0.05): at both μ_max 0.01 ends below 0.005, and
# 0.05 stays on the mean image's plateau.
LONG_BEST_LEARNING_RATES = {("nag", 0.99): 0.01, ("nag", 0.999): 0.01}
# The paper's headline: μ_max 0.999 against 0.99 at its own length, over seeds 0, 1 and 2.
HEADLINE_MU_MAX = (0.99, 0.999)
HEADLINE_SEEDS = (0, 1, 2)

# Our first generator's (v1), from its committed runs: the pilot's (results/curves_ae_pilot:
# SGD 17.0, 0.9N 10.5, 0.99N 6.08, 0.9M 9.30, 0.99M 7.11 after 10,000 updates; SGD's 0.05 is
# the top of the paper's grid, so its band steps past it to 0.1), 50,000 updates'
# (results/curves_ae_updates_50k_merged, every one bracketed) and Adam's and RMSProp's
# (results/curves_ae_updates_50k_with_modern).
V1_CHOSEN_LEARNING_RATES = {
  ("nag", 0.0): 0.05,
  ("nag", 0.9): 0.01,
  ("nag", 0.99): 0.01,
  ("cm", 0.9): 0.01,
  ("cm", 0.99): 0.005,
}
V1_BEST_LEARNING_RATES = {
  ("nag", 0.0): 0.05,
  ("nag", 0.9): 0.005,
  ("nag", 0.99): 0.005,
  ("nag", 0.995): 0.005,
  ("nag", 0.999): 0.001,
  ("cm", 0.9): 0.01,
  ("cm", 0.99): 0.005,
  ("cm", 0.995): 0.001,
  ("cm", 0.999): 0.0005,
}
V1_MODERN_LEARNING_RATES = {("adam", 0.0): 0.003, ("rmsprop", 0.0): 0.003}


TASK = "curves_ae"


def full(v1=False):
  """The paper's protocol exactly: 750,000 updates, the six ε. ``v1``: on our first generator,
  without the generator field, as the committed v1 runs recorded their task."""
  config = protocols.autoencoder(TASK)
  if v1:
    del config.task.curves_generator
  return config


def pilot(v1=False):
  """The first 10,000 updates, the six ε, μ_max ∈ {0, 0.9, 0.99}."""
  config = full(v1)
  config.num_updates = 10_000
  config.chunk_size, config.eval_every, config.checkpoint_every = 500, 1000, 1000
  config.grid.mu_max = (0.0, 0.9, 0.99)
  return config


def pilot_halving(v1=False):
  """The pilot, each setting's losing ε stopped at rungs (successive halving)."""
  return protocols.with_halving(pilot(v1))


def updates_50k(v1=False):
  """50,000 updates, each setting at its pilot's ε and two neighbours."""
  config = full(v1)
  config.num_updates = 50_000
  config.chunk_size, config.eval_every, config.checkpoint_every = 500, 2500, 5000
  chosen = V1_CHOSEN_LEARNING_RATES if v1 else CHOSEN_LEARNING_RATES
  points = protocols.run_points(TASK, chosen, protocols.MU_MAX, band=True)
  if not v1:
    # In the pilot, 0.05 left μ_max 0.99 at the mean image's plateau (17.1, NAG and CM), and
    # 0.995 and 0.999 follow 0.99's schedule exactly until update 12,250: for μ_max ≥ 0.99 the
    # band is the pilot's ε and two steps lower, bracketed from above by the pilot's 0.05.
    points = tuple(
      (o, mu, protocols.one_step_lower(lr) if mu >= 0.99 else lr) for o, mu, lr in points
    )
  config.grid.points = points
  return config


def updates_50k_nag():
  """updates_50k's SGD and NAG points (about 85 minutes on 2 CPU cores), to merge."""
  config = updates_50k()
  config.grid.points = tuple(p for p in config.grid.points if p[0] == "nag")
  return config


def updates_50k_cm():
  """updates_50k's CM points, to merge."""
  config = updates_50k()
  config.grid.points = tuple(p for p in config.grid.points if p[0] == "cm")
  return config


def modern_50k(v1=False):
  """Adam and RMSProp (not in the paper) on updates_50k's protocol, to merge with it."""
  return protocols.modern(full(v1), 50_000, protocols.AE_MODERN_LEARNING_RATES)


def seeds(v1=False):
  """updates_50k's protocol at seeds 1 and 2, each setting at its best ε there."""
  config = updates_50k(v1)
  best = V1_BEST_LEARNING_RATES if v1 else BEST_LEARNING_RATES
  config.grid.points = protocols.chosen_points(TASK, best, "seeds", "updates_50k")
  config.grid.seeds = protocols.AE_MORE_SEEDS
  return config


def modern_seeds(v1=False):
  """modern_50k's protocol at seeds 1 and 2, each optimizer at its best ε there."""
  config = modern_50k(v1)
  best = V1_MODERN_LEARNING_RATES if v1 else MODERN_LEARNING_RATES
  config.grid.points = protocols.chosen_points(TASK, best, "modern_seeds", "modern_50k")
  config.grid.seeds = protocols.AE_MORE_SEEDS
  return config


def updates_250k(v1=False):
  """250,000 updates: NAG and CM at μ_max 0.99, 0.995 and 0.999, each at its 50,000-update
  best ε and one step lower, seed 0."""
  config = full(v1)
  config.num_updates = 250_000
  config.chunk_size, config.eval_every, config.checkpoint_every = 1000, 5000, 5000
  best = V1_BEST_LEARNING_RATES if v1 else BEST_LEARNING_RATES
  config.grid.points = protocols.long_points(TASK, best)
  return config


def updates_750k():
  """The paper's own length, 750,000 updates: NAG at μ_max 0.99 and 0.999, seeds 0, 1 and 2,
  each at its 250,000-update best ε (LONG_BEST_LEARNING_RATES): six configs, each about 1.8
  hours alone on two CPU cores. Run each (point, seed) as its own run (module docstring)."""
  config = full()
  config.chunk_size, config.eval_every, config.checkpoint_every = 1000, 5000, 5000
  if not LONG_BEST_LEARNING_RATES:
    raise ValueError(
      "curves_ae has no chosen learning rates for updates_750k yet: run updates_250k first "
      "and fill LONG_BEST_LEARNING_RATES"
    )
  config.grid.points = tuple(
    ("nag", mu, LONG_BEST_LEARNING_RATES[("nag", mu)]) for mu in HEADLINE_MU_MAX
  )
  config.grid.seeds = HEADLINE_SEEDS
  return config


def smoke(v1=False):
  """Seconds, for the tests."""
  config = protocols.autoencoder_smoke(TASK)
  if v1:
    del config.task.curves_generator
  return config


PRESETS = {
  "full": full,
  "pilot": pilot,
  "pilot_halving": pilot_halving,
  "updates_50k": updates_50k,
  "updates_50k_nag": updates_50k_nag,
  "updates_50k_cm": updates_50k_cm,
  "modern_50k": modern_50k,
  "seeds": seeds,
  "modern_seeds": modern_seeds,
  "updates_250k": updates_250k,
  "updates_750k": updates_750k,
  "smoke": smoke,
}
# v1_<preset>: <preset> on our first generator, at the learning rates its runs chose.
PRESETS.update(
  {
    f"v1_{name}": functools.partial(f, v1=True)
    for name, f in PRESETS.items()
    if not name.endswith(("_nag", "_cm", "_750k"))
  }
)


def get_config(preset: str = "updates_50k"):
  return protocols.preset(PRESETS, preset)
