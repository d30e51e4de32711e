"""Section 5 on MNIST: classic HF (Table 1's HF*), momentum-like HF (HF†), NAG at equal compute.

    nesterov-jax run configs/hf_mnist.py:shortened  # the embedded digits, shorter phases: ~30 min
    nesterov-jax run configs/hf_mnist.py:full     # §5's schedule (set task.data_dir; GPU: hours)
    nesterov-jax run configs/hf_mnist.py:smoke    # seconds, for the tests

Writes classic/, hybrid/ and nag/ (each a sweep with its report), table1.md and
error_vs_passes.png, as configs/hf_curves.py does. For HF the grid's μ_max is the CG decay
ζ.

hybrid, full: §5's MNIST schedule. 500 updates of ≤ 50 CG steps (25k
CG steps) on minibatches of 1/20 of the 60,000 digits, ε = 1, ζ = 0.95, no line search; then
ζ = 0.995 with ε = 250/t (here 0.5·500/(500 + t − 500), the same function) for 4,500 updates
(225k CG steps); then classic HF with the full-batch gradient, ε = 1, 630 updates of ≤ 200
CG steps (125k, rounded up to whole chunks of 10 updates), λ restarted at 1 (ours; see
protocols.HF_RESTART_DAMPING). L2 1e-5 throughout. The curvature batch of the full-batch
phase is ours (1/10 of the data): the paper does not give it. classic, full: gradient on all
digits, curvature on 6,000 (ours), ≤ 250 CG steps, 1,000 updates (ours).

shortened: the embedded 5,000 real digits (4,000 train / 1,000 held out, as mnist_ae.py).
hybrid: 100 updates at ≤ 50 CG steps on 200-digit minibatches (1/20), then 150 at ζ = 0.995
with ε = 0.5·100/(100 + t − 100), then 30 classic full-batch updates (curvature from 10
fixed chunks of 400 in turn, ≤ 200 CG steps, λ restarted at 1). classic: 60 updates on all
4,000, curvature chunks of 400. nag: 12,000 updates of Table 1's protocol (Eq. 5, period
250, the last 1,000 at μ = 0.9), μ_max 0.99 and 0.999, ε ∈ {0.01, 0.005}.
"""

from nesterov_jax.paper import protocols

TASK = "mnist_ae"
L2 = protocols.HF_WEIGHT_COST[TASK]
RESTART = protocols.HF_RESTART_DAMPING  # λ at the switch back to classic HF (ours)


def get_config(preset: str = "shortened"):
  protocols.check_preset(preset, ("full", "shortened", "smoke"))
  nag_learning_rates = protocols.AE_LEARNING_RATES
  phase = protocols.hf_phase
  if preset == "full":
    minibatch, curvature, classic_updates, nag_updates = 3000, 6000, 1000, protocols.AE_UPDATES
    hybrid = [
      phase(
        500, minibatch, minibatch, 50, weight_cost=L2, decay=0.95, learning_rate=1.0, classic=False
      ),
      phase(
        4500,
        minibatch,
        minibatch,
        50,
        weight_cost=L2,
        decay=0.995,
        learning_rate=0.5,
        learning_rate_halving=500,
        classic=False,
      ),
      phase(
        630, 0, curvature, 200, weight_cost=L2, decay=0.995, learning_rate=1.0, damping=RESTART
      ),
    ]
  elif preset == "shortened":
    minibatch, curvature, classic_updates, nag_updates = 200, 400, 60, 12_000
    nag_learning_rates = (0.01, 0.005)
    hybrid = [
      phase(
        100, minibatch, minibatch, 50, weight_cost=L2, decay=0.95, learning_rate=1.0, classic=False
      ),
      phase(
        150,
        minibatch,
        minibatch,
        50,
        weight_cost=L2,
        decay=0.995,
        learning_rate=0.5,
        learning_rate_halving=100,
        classic=False,
      ),
      phase(30, 0, curvature, 200, weight_cost=L2, decay=0.995, learning_rate=1.0, damping=RESTART),
    ]
  else:
    minibatch, curvature, classic_updates, nag_updates = 100, 200, 4, 20
    hybrid = [
      phase(
        2, minibatch, minibatch, 5, weight_cost=L2, decay=0.95, learning_rate=1.0, classic=False
      ),
      phase(2, 0, curvature, 10, weight_cost=L2, decay=0.995, learning_rate=1.0, damping=RESTART),
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
  for name in ("classic", "hybrid", "nag"):  # the embedded digits' held-out share (as mnist_ae.py)
    config[name].task.num_test = 1_000
  return config
