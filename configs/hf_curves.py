"""Section 5 on Curves: classic HF (Table 1's HF*), momentum-like HF (HF†), NAG beside them.

    nesterov-jax run configs/hf_curves.py:shortened  # the paper's data, shorter phases: ~100 min, 2 CPU cores
    nesterov-jax run configs/hf_curves.py:full       # §5's schedule (GPU: many hours)
    nesterov-jax run configs/hf_curves.py:smoke      # seconds, for the tests

Writes classic/, hybrid/ and nag/ (each a sweep with its report), table1.md (the HF columns
beside the paper's) and error_vs_passes.png. For HF the grid's μ_max is the CG decay ζ.
Every preset but smoke trains on the paper's 20,000 generated curves, takes classic HF's
curvature from 4 fixed chunks of 5,000 curves in turn (Martens' Curves demo) and its
preconditioner's statistics from all of them.

hybrid, full: §5's Curves schedule. 5,000 updates of ≤ 50 CG steps (250k CG steps) on
minibatches of 1/16 of the curves (gradient and curvature on the same minibatch), ε = 1,
ζ = 0.95, no line search; then ζ = 0.999 with ε = 500/(t − 4000) (here 0.5·1000/(1000 + t −
5000), the same function); then classic HF on the whole training set with ≤ 200 CG steps,
ζ = 0.995, ε = 1, λ restarted at 1 (ours; see protocols.HF_RESTART_DAMPING); then the L2 cost
lowered from 2e-5 to 0 for 2,500 updates (500k CG steps). The paper gives neither phase 2's
nor phase 3's length: ours are 1,000 and 500 updates. classic, full: Martens (2010): gradient
on all curves, ≤ 250 CG steps, ζ = 0.95, L2 2e-5, 1,000 updates (ours). nag, full: Table 1's
protocol at μ_max ∈ {0.99, 0.999}.

shortened: the same phases, shorter (the paper's lengths in brackets). hybrid: 600 updates
(5,000) at ≤ 50 CG steps, then 200 (1,000, ours) at ζ = 0.999 with ε = 0.5·200/(200 + t −
800), then 30 (500, ours) classic full-batch updates at ≤ 200 CG steps, then 20 (2,500) at
L2 0. classic: 100 updates (1,000, ours). nag: 20,000 updates of Table 1's protocol (Eq. 5,
period 250, the last 1,000 at μ = 0.9), μ_max 0.99 and 0.999, ε ∈ {0.01, 0.005}; fewer passes
through the data than the HF runs (table1.md counts them): at HF's compute NAG would run the
paper's whole 750,000 updates.
"""

from nesterov_jax.paper import protocols

TASK = "curves_ae"
L2 = protocols.HF_WEIGHT_COST[TASK]
RESTART = protocols.HF_RESTART_DAMPING  # λ at the switch back to classic HF (ours)


def get_config(preset: str = "shortened"):
  protocols.check_preset(preset, ("full", "shortened", "smoke"))
  phase = protocols.hf_phase
  nag_learning_rates = protocols.AE_LEARNING_RATES
  if preset == "full":
    minibatch, curvature, classic_updates, nag_updates = 1250, 5000, 1000, protocols.AE_UPDATES
    hybrid = [
      phase(
        5000, minibatch, minibatch, 50, weight_cost=L2, decay=0.95, learning_rate=1.0, classic=False
      ),
      phase(
        1000,
        minibatch,
        minibatch,
        50,
        weight_cost=L2,
        decay=0.999,
        learning_rate=0.5,
        learning_rate_halving=1000,
        classic=False,
      ),
      phase(
        500, 0, curvature, 200, weight_cost=L2, decay=0.995, learning_rate=1.0, damping=RESTART
      ),
      phase(2500, 0, curvature, 200, weight_cost=0.0, decay=0.995, learning_rate=1.0),
    ]
  elif preset == "shortened":
    minibatch, curvature, classic_updates, nag_updates = 1250, 5000, 100, 20_000
    nag_learning_rates = (0.01, 0.005)
    hybrid = [
      phase(
        600, minibatch, minibatch, 50, weight_cost=L2, decay=0.95, learning_rate=1.0, classic=False
      ),
      phase(
        200,
        minibatch,
        minibatch,
        50,
        weight_cost=L2,
        decay=0.999,
        learning_rate=0.5,
        learning_rate_halving=200,
        classic=False,
      ),
      phase(30, 0, curvature, 200, weight_cost=L2, decay=0.995, learning_rate=1.0, damping=RESTART),
      phase(20, 0, curvature, 200, weight_cost=0.0, decay=0.995, learning_rate=1.0),
    ]
  else:
    n, minibatch, curvature, classic_updates, nag_updates = 400, 50, 100, 4, 20
    hybrid = [
      phase(
        2, minibatch, minibatch, 5, weight_cost=L2, decay=0.95, learning_rate=1.0, classic=False
      ),
      phase(2, 0, curvature, 10, weight_cost=0.0, decay=0.995, learning_rate=1.0, damping=RESTART),
    ]
  config = protocols.hf_comparison(
    TASK,
    preset,
    hybrid,
    classic_updates=classic_updates,
    curvature_batch_size=curvature,
    nag_updates=nag_updates,
    nag_learning_rates=nag_learning_rates,
  )
  if preset == "smoke":
    for name in ("classic", "hybrid", "nag"):
      config[name].task.num_train, config[name].task.num_test = n, n // 4
  return config
