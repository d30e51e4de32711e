"""nesterov_jax: exact CM and NAG for optax, and a reproduction of Sutskever et al. (2013)."""

from nesterov_jax.momentum import MomentumState, cm, evaluation_params, momentum_method, nag
from nesterov_jax.schedules import momentum_schedule, rnn_momentum_schedule

__all__ = [
    "MomentumState",
    "cm",
    "evaluation_params",
    "momentum_method",
    "momentum_schedule",
    "nag",
    "rnn_momentum_schedule",
]

__version__ = "0.1.0"
