"""Section 5 on Curves: classic HF (Table 1's HF*), momentum-like HF (HF†), NAG at equal compute.

    nesterov-jax run configs/hf_curves.py:cpu     # ~15 minutes on a 2-core CPU
    nesterov-jax run configs/hf_curves.py:full    # §5's schedule (GPU: many hours)
    nesterov-jax run configs/hf_curves.py:smoke   # seconds, for the tests

Writes classic/, hybrid/ and nag/ (each a sweep with its report), table1.md (the HF columns
beside the paper's) and error_vs_passes.png. For HF the grid's μ_max is the CG decay ζ.

hybrid, full: §5's Curves schedule (../shared/PAPER.md §5). 5,000 updates of ≤ 50 CG steps
(250k CG steps) on minibatches of 1/16 of the 20,000 curves (gradient and curvature on the
same minibatch), ε = 1, ζ = 0.95, no line search; then ζ = 0.999 with ε = 500/(t − 4000)
(here 0.5·1000/(1000 + t − 5000), the same function); then classic HF on the full batch with
≤ 200 CG steps, ζ = 0.995, ε = 1, λ restarted at 1 (ours; see protocols.HF_RESTART_DAMPING);
then the L2 cost lowered from 2e-5 to 0 for 2,500 updates (500k CG steps). The paper gives
neither phase 2's nor phase 3's length, nor the curvature batch of the full-batch phases:
ours are 1,000 updates, 500 updates and 1/10 of the data. classic, full: Martens (2010) as
described in §5: gradient on all 20,000 curves, curvature on 2,000 (ours; the paper does not
say), ≤ 250 CG steps, ζ = 0.95, L2 2e-5, 1,000 updates (ours). nag, full: Table 1's protocol
at μ_max ∈ {0.99, 0.999}.

cpu: 10,000 curves (as curves_ae.py:cpu). hybrid: 150 updates at ≤ 50 CG steps on 625-case
minibatches (1/16), then 50 updates at ζ = 0.999, ε = 0.5·50/(50 + t − 150), then 20 classic
full-batch updates (curvature on 1,000, ≤ 200 CG steps, λ restarted at 1), then 10 at L2 0.
classic: 60 updates on all 10,000 curves, curvature on 1,000. nag: 30,000 updates of 200
(about the same number of passes through the data as the HF runs; see table1.md for the
measured counts), μ_max 0.99, ε ∈ {0.01, 0.005}, Eq. 5 scaled as in curves_ae.py:cpu.
"""

from nesterov_jax import protocols

TASK = "curves_ae"
L2 = protocols.HF_WEIGHT_COST[TASK]
RESTART = protocols.HF_RESTART_DAMPING  # λ at the switch back to classic HF (ours)


def get_config(preset: str = "cpu"):
  protocols.check_preset(preset)
  phase = protocols.hf_phase
  if preset == "full":
    minibatch, curvature, classic_updates, nag_updates = 1250, 2000, 1000, protocols.AE_UPDATES
    hybrid = [phase(5000, minibatch, minibatch, 50, weight_cost=L2, decay=0.95, learning_rate=1.0, classic=False),
              phase(1000, minibatch, minibatch, 50, weight_cost=L2, decay=0.999, learning_rate=0.5,
                    learning_rate_halving=1000, classic=False),
              phase(500, 0, curvature, 200, weight_cost=L2, decay=0.995, learning_rate=1.0,
                    damping=RESTART),
              phase(2500, 0, curvature, 200, weight_cost=0.0, decay=0.995, learning_rate=1.0)]
  elif preset == "cpu":
    n, minibatch, curvature, classic_updates, nag_updates = 10_000, 625, 1000, 60, 30_000
    hybrid = [phase(150, minibatch, minibatch, 50, weight_cost=L2, decay=0.95, learning_rate=1.0, classic=False),
              phase(50, minibatch, minibatch, 50, weight_cost=L2, decay=0.999, learning_rate=0.5,
                    learning_rate_halving=50, classic=False),
              phase(20, 0, curvature, 200, weight_cost=L2, decay=0.995, learning_rate=1.0,
                    damping=RESTART),
              phase(10, 0, curvature, 200, weight_cost=0.0, decay=0.995, learning_rate=1.0)]
  else:
    n, minibatch, curvature, classic_updates, nag_updates = 400, 50, 100, 4, 20
    hybrid = [phase(2, minibatch, minibatch, 5, weight_cost=L2, decay=0.95, learning_rate=1.0, classic=False),
              phase(2, 0, curvature, 10, weight_cost=0.0, decay=0.995, learning_rate=1.0,
                    damping=RESTART)]
  config = protocols.hf_comparison(TASK, preset, hybrid, classic_updates=classic_updates,
                                   curvature_batch_size=curvature, nag_updates=nag_updates)
  if preset != "full":
    for name in ("classic", "hybrid", "nag"):
      config[name].task.num_train, config[name].task.num_test = n, min(2000, n // 4)
  return config
