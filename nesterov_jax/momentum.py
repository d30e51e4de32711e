"""Classical momentum (CM) and Nesterov's accelerated gradient (NAG), exact under schedules.

Both follow Section 2 of Sutskever, Martens, Dahl & Hinton (2013) in the paper's units:
the velocity is a step in parameter space (v ← μv − εg), not a sum of gradients, so a
learning-rate schedule never rescales past velocity.

    CM:   v[t+1] = μ[t] v[t] − ε[t] ∇f(θ[t])
    NAG:  v[t+1] = μ[t] v[t] − ε[t] ∇f(θ[t] + μ[t] v[t])
    both: θ[t+1] = θ[t] + v[t+1]

NAG's gradient is taken at the look-ahead point, so as an optax transformation it keeps
φ[t] = θ[t] + μ[t] v[t] as "the parameters": the caller's ordinary ``value_and_grad`` at
the stored parameters is then exactly ∇f(θ[t] + μ[t] v[t]), and

    φ[t+1] = φ[t] − μ[t] v[t] + (1 + μ[t+1]) v[t+1].

The paper's iterate θ = φ − μ[t] v[t] is recovered with :func:`evaluation_params`.

Relation to optax: ``optax.sgd(ε, μ)`` and ``optax.sgd(ε, μ, nesterov=True)`` keep a
buffer of *unscaled* gradients and multiply by the current ε on the way out, so a changing
ε rescales all past velocity; and their Nesterov form uses μ[t] where the exact update
needs μ[t+1]. With constant μ and ε the two are the same algorithm (the tests check that
our CM's θ and our NAG's stored φ equal optax's parameters), under schedules they are not.
"""

from __future__ import annotations

import collections
import sys
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import optax


ScalarOrSchedule = float | chex.Array | optax.Schedule


class MomentumState(NamedTuple):
  """State of :func:`cm`, :func:`nag` and :func:`momentum_method`.

  Attributes:
    count: the update count t.
    velocity: v[t], in parameter units.
    lookahead: the momentum of the look-ahead the stored parameters sit at, so that
      they are φ[t] = θ[t] + lookahead · v[t]: μ[t] for NAG, 0 for CM.
  """

  count: chex.Array
  velocity: optax.Params
  lookahead: chex.Array


def _as_schedule(value: ScalarOrSchedule) -> optax.Schedule:
  if callable(value):
    return value
  return lambda count: value


def momentum_method(
  learning_rate: ScalarOrSchedule,
  momentum: ScalarOrSchedule,
  nesterov: bool | chex.Array,
  accumulator_dtype: Any | None = None,
) -> optax.GradientTransformation:
  """CM (``nesterov`` = 0) or NAG (``nesterov`` = 1) in one transformation.

  ``nesterov`` may be a traced 0/1 array, so a vmapped grid can hold CM and NAG points
  in one compiled program. With a = ``nesterov``, the stored parameters are
  φ[t] = θ[t] + a μ[t] v[t] and one update is

      v[t+1] = μ[t] v[t] − ε[t] ∇f(φ[t])
      φ[t+1] = φ[t] − a μ[t] v[t] + (1 + a μ[t+1]) v[t+1]

  which is CM for a = 0 and NAG for a = 1 (see :func:`cm`, :func:`nag`).

  ``accumulator_dtype``, as in ``optax.trace``: the dtype the velocity is kept in (e.g.
  float32 for bfloat16 parameters); None keeps it in the parameters' dtype. The updates
  returned have the gradients' dtype either way.

  Args:
    learning_rate: ε: a float, a (traced) scalar array, or an optax schedule.
    momentum: μ: the same kinds, e.g. :func:`momentum_schedule`.
    nesterov: 0 for CM, 1 for NAG; a traced 0/1 array on a vmapped grid.
    accumulator_dtype: the velocity's dtype (None: the parameters').

  Returns:
    An ``optax.GradientTransformation`` whose state is a :class:`MomentumState`.

  Example:
    >>> import jax, jax.numpy as jnp, nesterov_jax as nj
    >>> def final_w(nesterov):  # 3 updates on f(w) = w², CM and NAG in one vmapped program
    ...   opt = nj.momentum_method(0.1, 0.9, nesterov)
    ...   w, state = jnp.array(1.0), opt.init(jnp.array(1.0))
    ...   for _ in range(3):
    ...     u, state = opt.update(2 * w, state)
    ...     w = w + u
    ...   return nj.evaluation_params(w, state)
    >>> print(jax.vmap(final_w)(jnp.array([0, 1])).round(4))  # θ after 3 updates: CM, NAG
    [0.062  0.1779]
  """
  lr_fn, mu_fn = _as_schedule(learning_rate), _as_schedule(momentum)
  a = jnp.asarray(nesterov, jnp.float32)
  accumulator_dtype = None if accumulator_dtype is None else jnp.dtype(accumulator_dtype)

  def init_fn(params):
    count = jnp.zeros([], jnp.int32)
    return MomentumState(
      count=count,
      velocity=jax.tree.map(lambda p: jnp.zeros_like(p, dtype=accumulator_dtype), params),
      lookahead=a * jnp.asarray(mu_fn(count), jnp.float32),
    )

  def update_fn(grads, state, params=None):
    del params
    mu, lr = mu_fn(state.count), lr_fn(state.count)
    next_count = optax.safe_increment(state.count)
    lookahead_next = a * jnp.asarray(mu_fn(next_count), jnp.float32)
    velocity = jax.tree.map(
      lambda v, g: (mu * v - lr * g.astype(v.dtype)).astype(v.dtype), state.velocity, grads
    )
    # θ = φ − lookahead·v stays exact whatever lookahead is (see evaluation_params).
    updates = jax.tree.map(
      lambda v, v_new, g: ((1.0 + lookahead_next) * v_new - state.lookahead * v).astype(g.dtype),
      state.velocity,
      velocity,
      grads,
    )
    return updates, MomentumState(count=next_count, velocity=velocity, lookahead=lookahead_next)

  return optax.GradientTransformation(init_fn, update_fn)


def cm(
  learning_rate: ScalarOrSchedule, momentum: ScalarOrSchedule, accumulator_dtype: Any | None = None
) -> optax.GradientTransformation:
  """Classical momentum, Section 2 of Sutskever et al. (2013).

      v[t+1] = μ[t] v[t] − ε[t] ∇f(θ[t]);   θ[t+1] = θ[t] + v[t+1]

  The update returned is v[t+1], so the parameters the caller holds are θ.

  Args:
    learning_rate: ε: a float, a (traced) scalar array, or an optax schedule.
    momentum: μ: the same kinds, e.g. :func:`momentum_schedule`.
    accumulator_dtype: the velocity's dtype (None: the parameters').

  Returns:
    An ``optax.GradientTransformation``; its state is a :class:`MomentumState`.

  Example:
    >>> import jax.numpy as jnp, optax, nesterov_jax as nj
    >>> opt = nj.cm(learning_rate=0.1, momentum=0.9)
    >>> w = jnp.array([1.0]); state = opt.init(w)
    >>> updates, state = opt.update(2 * w, state)  # the gradient of w² at w
    >>> print(optax.apply_updates(w, updates))  # θ − ε∇f(θ)
    [0.8]

  References:
    Polyak (1964); Sutskever, Martens, Dahl and Hinton (2013), Section 2.
  """
  return momentum_method(
    learning_rate, momentum, nesterov=False, accumulator_dtype=accumulator_dtype
  )


def nag(
  learning_rate: ScalarOrSchedule, momentum: ScalarOrSchedule, accumulator_dtype: Any | None = None
) -> optax.GradientTransformation:
  """Nesterov's accelerated gradient, Section 2 of Sutskever et al. (2013), exact form.

      v[t+1] = μ[t] v[t] − ε[t] ∇f(θ[t] + μ[t] v[t]);   θ[t+1] = θ[t] + v[t+1]

  The parameters the caller holds are the look-ahead point φ[t] = θ[t] + μ[t] v[t], so
  the gradient the caller computes at them is the one NAG needs; the update returned is
  φ[t+1] − φ[t] = −μ[t] v[t] + (1 + μ[t+1]) v[t+1]. At t = 0, v = 0 and φ = θ.
  Use :func:`evaluation_params` to get θ, the point whose error the paper reports.

  The transformation's output must reach the parameters unchanged (put it last in an
  ``optax.chain``). Under ``optax.inject_hyperparams`` μ[t+1] is not known in advance,
  so the look-ahead uses the momentum injected at the previous update (θ stays exact);
  pass a schedule directly to ``momentum`` for the exact form.

  Args:
    learning_rate: ε: a float, a scalar array (traced ones included, for vmapped grids),
      or an optax schedule of the update count.
    momentum: μ: same kinds as ``learning_rate``; e.g. :func:`momentum_schedule`.
    accumulator_dtype: the velocity's dtype, as in ``optax.trace`` (None: the parameters').

  Returns:
    An ``optax.GradientTransformation``; its state is a :class:`MomentumState`.

  Example:
    >>> import jax.numpy as jnp, optax, nesterov_jax as nj
    >>> opt = nj.nag(learning_rate=0.1, momentum=nj.momentum_schedule(0.99))
    >>> w = jnp.array([1.0]); state = opt.init(w)
    >>> updates, state = opt.update(2 * w, state)
    >>> w = optax.apply_updates(w, updates)  # the look-ahead point φ = θ + μv
    >>> print(f"{w[0]:.4f} {nj.evaluation_params(w, state)[0]:.4f}")  # μ[1] = 0.5 by Eq. 5
    0.7000 0.8000

  References:
    Nesterov (1983); Sutskever, Martens, Dahl and Hinton (2013), Section 2.
  """
  return momentum_method(
    learning_rate, momentum, nesterov=True, accumulator_dtype=accumulator_dtype
  )


def _find_momentum_states(opt_state: Any) -> list[MomentumState]:
  is_ours = lambda x: isinstance(x, MomentumState)
  return [s for s in jax.tree.leaves(opt_state, is_leaf=is_ours) if is_ours(s)]


FOLLOWED = (
  "nj.cm and nj.nag must be the last transformation of an optax chain: one after it "
  "changes the updates, so the stored parameters are no longer the look-ahead point and "
  "θ cannot be recovered; put it before them, e.g. optax.chain(optax.clip(1.0), nj.nag(...))"
)


def _holds_ours(state: Any) -> bool:
  """Whether ``state`` holds a CM/NAG state; raises where one is followed in a chain
  (``optax.chain``'s state is a plain tuple, ``optax.named_chain``'s an OrderedDict)."""
  if isinstance(state, MomentumState):
    return True
  if type(state) is tuple or isinstance(state, collections.OrderedDict):
    parts = list(state.values()) if isinstance(state, dict) else list(state)
    holds = [_holds_ours(part) for part in parts]
    if any(holds[:-1]):
      raise ValueError(FOLLOWED)
    return any(holds)
  if hasattr(state, "_fields"):  # a wrapper's NamedTuple state (masked, MultiSteps, ...)
    return any([_holds_ours(getattr(state, f)) for f in state._fields])
  if isinstance(state, dict):  # multi_transform's states, by label
    return any([_holds_ours(v) for v in state.values()])
  if isinstance(state, list):
    return any([_holds_ours(v) for v in state])
  return False


def _is_masked(x) -> bool:
  return isinstance(x, optax.MaskedNode)


def evaluation_params(params: optax.Params, opt_state: optax.OptState) -> optax.Params:
  """The paper's iterate θ, the point whose error Sutskever et al. report.

  For NAG the stored parameters are the look-ahead φ = θ + μv, so θ = φ − μv; for CM
  (or any state without ours) the parameters are returned unchanged. ``opt_state`` may be
  our state itself or any optax state that contains it: ``optax.chain`` with our
  transformation last, ``inject_hyperparams``, ``MultiSteps``, ``apply_if_finite``,
  ``masked`` and ``multi_transform`` (θ recovered on our part only; several of our
  transformations on disjoint parts each recover theirs). Works on a vmapped grid too: a
  batched μ of shape [G] is broadcast against parameters of shape [G, ...]. Flax NNX works
  as it is: pass ``nnx.state(model, nnx.Param)`` and ``nnx.Optimizer``'s ``opt_state``; θ
  comes back as the same ``nnx.State`` of ``nnx.Param``, ready for ``nnx.update``.

  Args:
    params: the parameters the caller holds (for NAG, the look-ahead point φ).
    opt_state: the optimizer state that produced them.

  Returns:
    θ, in the structure (and, for NNX, the variable types) of ``params``.

  Example:
    >>> import jax.numpy as jnp, optax, nesterov_jax as nj
    >>> opt = nj.nag(learning_rate=0.1, momentum=0.9)
    >>> params = {"w": jnp.array([1.0])}
    >>> state = opt.init(params)
    >>> for _ in range(2):
    ...   updates, state = opt.update({"w": 2 * params["w"]}, state, params)
    ...   params = optax.apply_updates(params, updates)
    >>> theta = nj.evaluation_params(params, state)  # θ = φ − μv
    >>> print(theta["w"].round(4), params["w"].round(4))
    [0.496] [0.2224]

  Raises:
    ValueError: when a transformation follows ours in a chain (then no θ can be recovered),
      or when two of our states cover the same parameters (θ is ambiguous).
  """
  _holds_ours(opt_state)
  states = _find_momentum_states(opt_state)
  if not states:
    return params
  covered = [
    jax.tree.map(lambda v: not _is_masked(v), s.velocity, is_leaf=_is_masked) for s in states
  ]
  if len(states) > 1 and any(sum(c) > 1 for c in zip(*map(jax.tree.leaves, covered))):
    raise ValueError(
      f"evaluation_params found {len(states)} CM/NAG states over the same parameters "
      "in opt_state, where θ is ambiguous; give each its own part (optax.multi_transform)"
    )
  for state in states:
    lookahead = _unwrap(state.lookahead)

    def theta(v, p):
      if _is_masked(v):
        return p
      value = _unwrap(p)
      mu = jnp.reshape(
        lookahead, jnp.shape(lookahead) + (1,) * (jnp.ndim(value) - jnp.ndim(lookahead))
      )
      out = (value - mu * _unwrap(v)).astype(value.dtype)
      return p.replace(out) if _is_variable(p) else out

    params = jax.tree.map(
      theta, state.velocity, params, is_leaf=lambda x: _is_masked(x) or _is_variable(x)
    )
  return params


def _is_variable(x) -> bool:
  """Whether ``x`` is a Flax NNX variable (``nnx.Param``, or ``nnx.Optimizer``'s wrapped state).
  flax.nnx is not imported here: where it was never imported, no variable exists."""
  nnx = sys.modules.get("flax.nnx")
  return nnx is not None and isinstance(x, nnx.Variable)


def _unwrap(x):
  return x.get_value() if _is_variable(x) else x
