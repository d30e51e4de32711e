"""The sweep engine: a grid of optimizers × hyperparameters × seeds trained as one compiled,
sharded program, with checkpoints, metrics, results and reports.

    config → grid.py (points, checks) → optimizers.py (families: registered ones, any
    optax alias, a user's factory) → programs.py (the vmapped init / train chunk / evaluate)
    → sweep.py (the host loop: sharding, progress, metrics.jsonl, orbax checkpoints,
    results.json) → report.py (summary.md and plots); results.py reads a run directory.

A user's own experiment needs three names from here: :func:`sweep_config` (every field at its
default), :class:`Task` (a model and its data as pure functions) and :func:`minibatch`. Imported
when used (``import nesterov_jax`` does not import it); it needs ml_collections, orbax, tqdm and
matplotlib besides jax, optax and chex.
"""

from nesterov_jax.engine.config import sweep_config
from nesterov_jax.engine.tasks import Task, minibatch

__all__ = ["Task", "minibatch", "sweep_config"]
