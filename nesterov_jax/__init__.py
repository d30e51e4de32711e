"""nesterov_jax: exact CM and NAG for optax, and a reproduction of Sutskever et al. (2013)."""

from nesterov_jax.hf import HessianFreeState, hessian_free
from nesterov_jax.initializers import echo_state_init, sparse_init
from nesterov_jax.momentum import MomentumState, cm, evaluation_params, momentum_method, nag
from nesterov_jax.schedules import momentum_schedule, rnn_momentum_schedule

__all__ = [
  "HessianFreeState",
  "MomentumState",
  "cm",
  "echo_state_init",
  "evaluation_params",
  "hessian_free",
  "momentum_method",
  "momentum_schedule",
  "nag",
  "rnn_momentum_schedule",
  "sparse_init",
]

__version__ = "0.1.0"
