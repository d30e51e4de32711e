"""Table 1, Faces row (and Table 2's Faces entry): the 625-2000-1000-500-30 autoencoder.

    nesterov-jax run configs/faces_ae.py:updates_15k  # 15,000 updates, each setting at its pilot's ε
    nesterov-jax run configs/faces_ae.py:modern_15k   # Adam, RMSProp (not in the paper) on updates_15k's protocol
    nesterov-jax run configs/faces_ae.py:seeds        # seeds 1, 2 at each setting's 15,000-update best ε, to merge
    nesterov-jax run configs/faces_ae.py:pilot        # the paper's six ε, 3,000 updates
    nesterov-jax run configs/faces_ae.py:pilot_halving # the pilot, losing ε stopped at rungs (successive halving)
    nesterov-jax run configs/faces_ae.py:full         # the paper's protocol exactly
    nesterov-jax run configs/faces_ae.py:smoke        # seconds, for the tests

Every preset but smoke keeps the paper's protocol and shortens only the run: minibatches of
200, Eq. 5 with period 250, NAG and CM, the last 1000 updates at μ = 0.9, linear outputs and
squared error, on 103,500 training / 41,400 test faces: newfaces_rot_single.mat via
task.data_dir, else the same numbers of faces built from scikit-image's 100 LFW faces by
random rotations, scalings and shifts. full: 750,000 updates, μ_max ∈ {0, 0.9, 0.99, 0.995,
0.999}, ε ∈ {0.05, 0.01, 0.005, 0.001, 0.0005, 0.0001}. pilot: the first 3,000 updates' worth,
the six ε, μ_max ∈ {0, 0.9, 0.99}. updates_15k: 15,000 updates, μ_max ∈ {0, 0.9, 0.99} (Eq. 5
reaches 0.99 at update 12,250; 0.995 and 0.999 would run 0.99's schedule), each setting at the
ε its pilot chose (below, from results/faces_ae_pilot/summary.md). The largest network of the
three: about 9 GFLOP per update.
"""

from nesterov_jax.paper import protocols

# (optimizer, μ_max) → ε: the pilot's best learning rate per setting.
# At 3,000 updates 0.001 was best for every setting, bracketed on both sides (0.005 and
# 0.0005 worse; 0.05 diverged within 30 updates; with momentum, 0.01 and 0.005 stayed on the
# mean-face plateau, 21.8). At 15,000 updates 0.0005 was worse again for SGD, 0.99N and 0.99M.
CHOSEN_LEARNING_RATES = {
  ("nag", 0.0): 0.001,
  ("nag", 0.9): 0.001,
  ("nag", 0.99): 0.001,
  ("cm", 0.9): 0.001,
  ("cm", 0.99): 0.001,
}

# Each setting's ε at 15,000 updates on seed 0 (results/faces_ae_updates_15k_merged), at which the
# seeds preset runs seeds 1 and 2.
BEST_LEARNING_RATES = {
  ("nag", 0.0): 0.001,
  ("nag", 0.9): 0.001,
  ("nag", 0.99): 0.001,
  ("cm", 0.9): 0.001,
  ("cm", 0.99): 0.001,
}


TASK = "faces_ae"


def full():
  """The paper's protocol exactly: 750,000 updates, μ_max ∈ {0, 0.9, 0.99, 0.995, 0.999}, the
  paper's six ε."""
  config = protocols.autoencoder(TASK)
  return config


def pilot():
  """The first 3,000 updates' worth of the protocol: the six ε, μ_max ∈ {0, 0.9, 0.99}
  (0.995 and 0.999 follow 0.99's schedule until update 12,250)."""
  config = full()
  config.num_updates = 3_000
  config.chunk_size, config.eval_every, config.checkpoint_every = 500, 1000, 1000
  config.grid.mu_max = (0.0, 0.9, 0.99)
  return config


def pilot_halving():
  """The pilot, each setting's losing ε stopped at rungs (successive halving)."""
  return protocols.with_halving(pilot())


def updates_15k():
  """15,000 updates, μ_max ∈ (0.0, 0.9, 0.99), each setting at the ε its pilot chose
  (CHOSEN_LEARNING_RATES)."""
  config = full()
  config.num_updates = 15_000
  config.chunk_size, config.eval_every, config.checkpoint_every = 500, 2500, 5000
  config.grid.points = protocols.run_points(
    TASK, CHOSEN_LEARNING_RATES, (0.0, 0.9, 0.99), band=False
  )
  return config


def modern_15k():
  """Adam and RMSProp (not in the paper) on updates_15k's protocol, to merge with it."""
  return protocols.modern(full(), 15_000, protocols.AE_MODERN_LEARNING_RATES)


def seeds():
  """updates_15k's protocol at seeds 1 and 2, each setting at BEST_LEARNING_RATES, to merge."""
  config = updates_15k()
  config.grid.points = protocols.chosen_points(TASK, BEST_LEARNING_RATES, "seeds", "updates_15k")
  config.grid.seeds = protocols.AE_MORE_SEEDS
  return config


def smoke():
  """Seconds, for the tests."""
  config = protocols.autoencoder_smoke(TASK)
  return config


PRESETS = {
  "full": full,
  "pilot": pilot,
  "pilot_halving": pilot_halving,
  "updates_15k": updates_15k,
  "modern_15k": modern_15k,
  "seeds": seeds,
  "smoke": smoke,
}


def get_config(preset: str = "updates_15k"):
  return protocols.preset(PRESETS, preset)
