"""The paper's training protocols as sweep configs; the files in configs/ start from these.

Section 3 (autoencoders): 750,000 updates, minibatches of 200, Eq. 5 with μ_max ∈ {0, 0.9,
0.99, 0.995, 0.999}, CM and NAG, ε ∈ {0.05, 0.01, 0.005, 0.001, 0.0005, 0.0001}, the final
1000 updates at μ = 0.9, the best ε per μ_max by final training error.

Section 4 (RNNs): 50,000 updates, minibatches of 100, μ = 0.9 for 1000 updates then
μ0 ∈ {0, 0.9, 0.98, 0.995}, CM and NAG, ε ∈ {1e-3, 1e-4, 1e-5, 1e-6}, 4 seeds.
"""

from __future__ import annotations

import ml_collections

from nesterov_jax.engine import config as engine_config
from nesterov_jax.paper.optimizers import schedule_config

MU_MAX = (0.0, 0.9, 0.99, 0.995, 0.999)
AE_LEARNING_RATES = (0.05, 0.01, 0.005, 0.001, 0.0005, 0.0001)
AE_UPDATES = 750_000
RNN_MU0 = (0.0, 0.9, 0.98, 0.995)
RNN_LEARNING_RATES = (1e-3, 1e-4, 1e-5, 1e-6)
RNN_UPDATES = 50_000


def sweep_config(task: str, num_updates: int, **intervals) -> ml_collections.ConfigDict:
  """The engine's sweep config (:func:`nesterov_jax.engine.config.sweep_config`: every field,
  commented there) with the paper's optimizers: NAG and CM on Eq. 5 (period 250, the last
  1000 updates at μ = 0.9, ``config.schedule``), μ_max 0.9 and 0.99."""
  config = engine_config.sweep_config(task, num_updates, **intervals)
  config.schedule = schedule_config()
  config.grid.optimizers = ("nag", "cm")
  config.grid.mu_max = (0.9, 0.99)
  return config


def check_preset(preset: str, presets: tuple[str, ...]) -> None:
  if preset not in presets:
    raise ValueError(f"presets are {', '.join(presets)}")


# The pilots with successive halving (``pilot_halving``): at updates 2,000 and 5,000 every
# setting keeps the better half of its ε (at least one), ranked by the training objective over
# the trailing 1,000 updates.
HALVING_PILOT = dict(eta=2.0, rungs=(2000, 5000), window=1000, metric="train_loss")


def with_halving(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """``config`` (a pilot) with :data:`HALVING_PILOT`'s successive halving (the rungs within
  its updates: a 3,000- or 5,000-update pilot has one, at 2,000)."""
  for field, value in HALVING_PILOT.items():
    config.halving[field] = value
  config.halving.rungs = tuple(r for r in HALVING_PILOT["rungs"] if r < config.num_updates)
  return config


def autoencoder(task_name: str) -> ml_collections.ConfigDict:
  """Section 3's protocol for ``task_name`` ∈ {curves_ae, mnist_ae, faces_ae}, exactly."""
  config = sweep_config(
    task_name, AE_UPDATES, chunk_size=1000, eval_every=25_000, checkpoint_every=25_000
  )
  config.task.data_dir = ""  # "" = embedded/generated data; or the original files' folder
  config.task.num_train = {"curves_ae": 20_000, "mnist_ae": 60_000, "faces_ae": 103_500}[task_name]
  config.task.num_test = {"curves_ae": 10_000, "mnist_ae": 10_000, "faces_ae": 41_400}[task_name]
  config.task.data_seed = 0
  if task_name == "curves_ae":
    # Our generator calibrated to the original's statistics (paper/curves.py); "v1", our
    # first, made every Curves run committed before it.
    config.task.curves_generator = "calibrated"
  config.task.batch_size = 200
  # Cases per evaluation batch. With the grid vmapped, 2000 made [grid, 2000, 2000] activations
  # that spill the cache: on 2 CPU cores, evaluating Faces ran 3.1 times slower per case than
  # with 500 (1.2 times MNIST, 1.3 times Curves), and one evaluation of 30 Faces configs on the
  # 144,900 faces took 18 minutes, twice a chunk of 500 updates. Only the summation order changes.
  config.task.eval_batch_size = 500
  config.task.num_connections = 15
  config.grid.mu_max = MU_MAX
  config.grid.learning_rates = AE_LEARNING_RATES
  config.grid.init_scale = (1.0,)
  return config


def rnn(problem: str, length: int) -> ml_collections.ConfigDict:
  """Section 4's protocol for one problem at T = ``length``, exactly."""
  config = sweep_config("rnn", RNN_UPDATES, chunk_size=1000, eval_every=5000, checkpoint_every=5000)
  config.schedule.kind = "rnn"
  # 100 hidden units, minibatches of 100 fresh sequences; errors on 10,000 fixed ones.
  config.task.update(
    dict(
      problem=problem,
      length=length,
      batch_size=100,
      hidden_size=100,
      num_eval_sequences=10_000,
      eval_batch_size=1000,
      unroll=8,
      data_seed=0,
    )
  )
  config.grid.mu_max = RNN_MU0
  config.grid.learning_rates = RNN_LEARNING_RATES
  config.grid.seeds = (0, 1, 2, 3)
  return config


# The paper's autoencoder learning rates, extended by one step at each end (a band must be
# able to step past the paper's grid when the pilot's best lies at its edge).
AE_LEARNING_RATE_LADDER = (0.1, *AE_LEARNING_RATES, 0.00005)


def learning_rate_band(
  lr: float, ladder: tuple[float, ...] = AE_LEARNING_RATE_LADDER
) -> tuple[float, ...]:
  """``lr`` and its neighbours on ``ladder``: the learning rates a long run tries around the
  one a pilot chose, so that its selection can show the optimum is bracketed."""
  i = min(range(len(ladder)), key=lambda j: abs(ladder[j] - lr))
  return tuple(ladder[max(0, i - 1) : i + 2])


# The seeds that join an autoencoder protocol's seed-0 runs at each setting's best ε.
AE_MORE_SEEDS = (1, 2)
# μ_max whose Eq. 5 schedule a long Curves run is for: 0.999 first applies at update 124,750.
LONG_MU_MAX = (0.99, 0.995, 0.999)


def one_step_lower(lr: float, ladder: tuple[float, ...] = AE_LEARNING_RATE_LADDER) -> float:
  """The next ε below ``lr`` on ``ladder``."""
  i = min(range(len(ladder)), key=lambda j: abs(ladder[j] - lr))
  if i + 1 == len(ladder):
    raise ValueError(f"no learning rate below {lr:g} on the ladder {ladder}")
  return ladder[i + 1]


def preset(presets: dict, name: str) -> ml_collections.ConfigDict:
  """The config of preset ``name`` from a config file's table ``{name: function}``; each
  function there builds its preset's fields in the open."""
  check_preset(name, tuple(presets))
  return presets[name]()


def run_points(
  task_name: str, chosen_learning_rates: dict, run_mu_max: tuple, band: bool
) -> tuple[tuple[str, float, float], ...]:
  """The (optimizer, μ_max, ε) points of a run after its pilot: SGD (NAG at μ_max 0), then NAG
  and CM at each μ_max of ``run_mu_max`` above 0, each at the ε its pilot chose
  (``chosen_learning_rates``: {(optimizer, μ_max): ε}; μ_max above 0.99 take 0.99's: the pilot
  stops before their schedules leave 0.99's) and, with ``band``, that ε's two neighbours on
  the paper's grid, so that the run's own selection shows whether its optimum is bracketed."""
  if not chosen_learning_rates:
    raise ValueError(
      f"{task_name} has no pilot-chosen learning rates yet: run its pilot preset first"
    )
  points = []
  for opt, mu in [("nag", 0.0)] + [(o, m) for o in ("nag", "cm") for m in run_mu_max if m > 0]:
    lr = chosen_learning_rates.get((opt, mu), chosen_learning_rates.get((opt, min(mu, 0.99))))
    points += [(opt, mu, x) for x in (learning_rate_band(lr) if band else (lr,))]
  return tuple(points)


def chosen_points(
  task_name: str, chosen_learning_rates: dict, preset_name: str, first: str
) -> tuple[tuple[str, float, float], ...]:
  """Each setting at the ε a run chose (``chosen_learning_rates``: {(optimizer, μ_max): ε}),
  for the runs that add seeds; ``first`` names the preset that chooses them."""
  if not chosen_learning_rates:
    raise ValueError(
      f"{task_name} has no chosen learning rates for {preset_name} yet: run {first} first"
    )
  return tuple((opt, mu, lr) for (opt, mu), lr in chosen_learning_rates.items())


def long_points(task_name: str, best_learning_rates: dict) -> tuple[tuple[str, float, float], ...]:
  """NAG and CM at each μ_max of :data:`LONG_MU_MAX`, each at its best ε of the shorter run
  and one step lower."""
  if not best_learning_rates:
    raise ValueError(
      f"{task_name} has no chosen learning rates yet: run its shorter protocol first "
      "and fill its best learning rates"
    )
  return tuple(
    (opt, mu, lr)
    for opt in ("nag", "cm")
    for mu in LONG_MU_MAX
    for lr in (best_learning_rates[(opt, mu)], one_step_lower(best_learning_rates[(opt, mu)]))
  )


def autoencoder_smoke(task_name: str) -> ml_collections.ConfigDict:
  """Every autoencoder's ``smoke`` preset: seconds, for the tests (400 training cases, 40
  updates; μ stays at Eq. 5's 0.5 before the 20-update tail at 0.9)."""
  config = autoencoder(task_name)
  config.num_updates, config.chunk_size, config.eval_every, config.checkpoint_every = 40, 20, 20, 20
  config.schedule.finetune_steps = 20
  config.task.num_train, config.task.num_test, config.task.eval_batch_size = 400, 100, 200
  config.grid.mu_max = (0.0, 0.99)
  config.grid.learning_rates = (0.01,)
  return config


# Optimizers the paper did not run, on its protocols (its tables' extra columns): Adam and
# RMSProp at optax's defaults (Adam b1 0.9, b2 0.999, eps 1e-8; RMSProp decay 0.9, eps 1e-8,
# no momentum), each over its own ε grid, wide enough to bracket its optimum (a best ε at an
# edge is extended by a further run and said so beside the table).
MODERN_OPTIMIZERS = ("adam", "rmsprop")
AE_MODERN_LEARNING_RATES = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
# The RNNs' grid reaches two steps lower: on addition at T = 80 both optimizers did best at
# 1e-4, the lowest of the first five (results/rnn_addition_modern_paper_length/summary.md).
RNN_MODERN_LEARNING_RATES = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5)


def modern(
  config: ml_collections.ConfigDict, num_updates: int, learning_rates: tuple[float, ...]
) -> ml_collections.ConfigDict:
  """``config``'s protocol (task, data, minibatches, updates) with :data:`MODERN_OPTIMIZERS`
  over ``learning_rates``, seed 0; μ and its schedule do not apply (neither has a momentum
  argument at its defaults). ``nesterov-jax merge`` joins the run with the paper's optimizers'
  run of the same protocol, whose tables then show these as extra columns."""
  config.num_updates = num_updates
  config.chunk_size, config.eval_every, config.checkpoint_every = 500, 2500, 5000
  config.grid.optimizers = MODERN_OPTIMIZERS
  config.grid.mu_max = (0.0,)
  config.grid.learning_rates = learning_rates
  config.grid.seeds = (0,)
  return config


# The seeds that join a protocol's seed-0 runs at each setting's chosen ε: the paper averaged
# Table 5 over 4 seeds.
MORE_SEEDS = (1, 2, 3)
PILOT_UPDATES = 10_000


def rnn_smoke(problem: str, length: int = 20) -> ml_collections.ConfigDict:
  """Every RNN problem's ``smoke`` preset: seconds, for the tests (T = ``length``, 40 updates,
  a 10-update warm-up)."""
  config = rnn(problem, length)
  config.num_updates, config.chunk_size = 40, 20
  config.eval_every = config.checkpoint_every = 20
  config.schedule.warmup_steps = 10
  config.task.num_eval_sequences = 200
  config.task.eval_batch_size = 200
  config.grid.mu_max = (0.0, 0.995)
  config.grid.learning_rates = (1e-5,)
  config.grid.seeds = (0,)
  return config


# Section 5: Hessian-free. L2 weight costs are the paper's; λ0 = 45 is the initial damping
# in Martens' (2010) code. The hybrid's switch back to classic HF restarts λ at 1 (ours: its
# minibatch phases always find ρ > 3/4 and drive λ toward 0, where the full-batch quadratic
# model over-predicts by far; the paper does not say what it did).
HF_WEIGHT_COST = {"curves_ae": 2e-5, "mnist_ae": 1e-5, "faces_ae": 1e-5}
HF_INITIAL_DAMPING = 45.0
HF_RESTART_DAMPING = 1.0


def hf_phase(
  num_updates: int,
  batch_size: int,
  curvature_batch_size: int,
  max_cg_iterations: int,
  *,
  weight_cost: float,
  decay: float | None = None,
  learning_rate: float | None = None,
  learning_rate_halving: int = 0,
  damping: float | None = None,
  classic: bool = True,
) -> ml_collections.ConfigDict:
  """One phase of an HF run. ``batch_size`` 0 = the whole training set; ``decay`` and
  ``learning_rate`` None = the grid point's ζ (its μ_max) and ε; ``damping`` None carries λ
  over from the previous phase (the first starts at ``hf.initial_damping``), a number
  restarts it there; ``classic`` = Martens' line search, CG backtracking and
  preconditioner, else §5's momentum-like update (none of the three: the step is ε times
  the last CG iterate)."""
  return ml_collections.ConfigDict(
    dict(
      num_updates=num_updates,
      batch_size=batch_size,
      curvature_batch_size=curvature_batch_size,
      max_cg_iterations=max_cg_iterations,
      decay=decay,
      learning_rate=learning_rate,
      learning_rate_halving=learning_rate_halving,
      weight_cost=weight_cost,
      damping=damping,
      preconditioner=classic,
      backtracking=classic,
      line_search=classic,
    )
  )


def hf(task_name: str, phases: list[ml_collections.ConfigDict]) -> ml_collections.ConfigDict:
  """An HF sweep on one autoencoder: the task of :func:`autoencoder`, the grid's optimizer
  ``hf`` with μ_max = the CG decay ζ (0.95, Martens 2010) and ε = 1, and ``phases``."""
  config = autoencoder(task_name)
  config.schedule.kind = "constant"
  config.grid.optimizers = ("hf",)
  config.grid.mu_max = (0.95,)
  config.grid.learning_rates = (1.0,)
  config.hf = ml_collections.ConfigDict()
  config.hf.initial_damping = HF_INITIAL_DAMPING
  config.hf.cg_tolerance = 5e-4  # Martens' ε in the CG stopping rule
  config.hf.phases = tuple(phases)
  config.num_updates = sum(p.num_updates for p in phases)
  return config


def _hf_reference_nag(
  task_name: str, num_updates: int, learning_rates: tuple[float, ...]
) -> ml_collections.ConfigDict:
  """NAG beside HF: Table 1's protocol (Eq. 5 with period 250, the last 1000 updates at
  μ = 0.9) for ``num_updates`` updates, μ_max 0.99 and 0.999, ``learning_rates``."""
  nag = autoencoder(task_name)
  nag.num_updates = num_updates
  nag.chunk_size = min(500, num_updates // 2)
  nag.eval_every = nag.checkpoint_every = max(
    nag.chunk_size, num_updates // 10 // nag.chunk_size * nag.chunk_size
  )
  nag.grid.optimizers = ("nag",)
  nag.grid.mu_max = (0.99, 0.999)
  nag.grid.learning_rates = learning_rates
  return nag


def hf_comparison(
  task_name: str,
  preset: str,
  hybrid: list[ml_collections.ConfigDict],
  *,
  classic_updates: int,
  curvature_batch_size: int,
  nag_updates: int,
  nag_learning_rates: tuple[float, ...] = AE_LEARNING_RATES,
) -> ml_collections.ConfigDict:
  """The ``hf`` experiment on one autoencoder: classic HF (HF*: Martens 2010, gradient on the
  whole training set, ≤ 250 CG steps), the momentum-like ``hybrid`` phases (HF†) and a NAG
  reference of ``nag_updates``.

  HF runs report every 10 updates (every 2 in smoke runs), where their compute per update
  is hundreds of NAG updates'."""
  smoke = preset == "smoke"
  classic = hf(
    task_name,
    [
      hf_phase(
        classic_updates,
        0,
        curvature_batch_size,
        10 if smoke else 250,
        weight_cost=HF_WEIGHT_COST[task_name],
      )
    ],
  )
  config = ml_collections.ConfigDict()
  config.experiment = "hf_comparison"
  config.classic, config.hybrid = classic, hf(task_name, hybrid)
  config.nag = _hf_reference_nag(task_name, nag_updates, nag_learning_rates)
  chunk = 2 if smoke else 10
  for run in (config.classic, config.hybrid):
    run.chunk_size, run.eval_every, run.checkpoint_every = chunk, chunk, 5 * chunk
  if smoke:
    for run in (config.classic, config.hybrid, config.nag):
      run.task.eval_batch_size = 200
  return config
