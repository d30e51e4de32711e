"""Hessian-free optimization (Martens 2010) as an optax transformation; §5's momentum-like HF.

Each update minimizes the damped quadratic model of f(θ) = L(θ) + ½κ‖θ‖² (κ the L2 weight
cost) around the current θ,

    q(p) = ∇f(θ)ᵀp + ½ pᵀ(G + κI)p,        solved with damping λ:   (G + κI + λI) p = −∇f(θ),

by preconditioned conjugate gradient, where G = Jᵀ H_L J is the Gauss-Newton matrix of the
network's output function (Jacobian J) and its matching loss (Hessian H_L at the outputs;
for logistic outputs with cross-entropy H_L = diag(σ(1 − σ)), for linear outputs with squared
error H_L = I). G is never formed: G v is a forward-mode product J v, then H_L, then a
reverse-mode product Jᵀ(·), all on the linearization of the network at θ (one forward pass
per update, ``jax.linearize`` and its transpose).

Martens' details, as his public code (nnet_train_2.m, conjgrad_1.m) does them, each a line
below:

- CG warm-started from the previous update's final CG iterate times a decay constant ζ
  (0.95 in his code).
- His relative-progress stopping rule: stop at iteration i when i > k, φ(x_i) < 0 and
  (φ(x_i) − φ(x_{i−k})) / φ(x_i) < k·ε, with k = max(10, ⌈0.1 i⌉) and ε = 5·10⁻⁴, under a cap on
  iterations (250 in his code); and on a direction without positive curvature.
- Iterates kept at iterations ⌈5·1.3^j⌉ (5, 7, 9, 11, 15, 19, 25, 32, 41, 54, 69, 90, 117,
  152, 197) and the last one, for CG backtracking: from the last iterate, step back through
  the kept ones while the objective keeps improving.
- Curvature from fixed chunks of the batch used in turn: the batch (for classic HF the
  whole training set, in a fixed order) is split into chunks of ``curvature_batch_size``
  cases and update t takes its G·v products on chunk t mod (number of chunks).
- Levenberg-Marquardt damping from the reduction ratio ρ = (f_c(θ + p) − f_c(θ)) / q(p), its
  numerator f_c measured on the curvature chunk and q the undamped quadratic model:
  λ × 3/2 when ρ < 1/4 or ρ is NaN, × 2/3 when ρ > 3/4. CG backtracking also measures f on
  the curvature chunk.
- A backtracking line search on the whole batch (rate × 0.8 until f(θ + rate·p) ≤ f(θ) +
  10⁻²·rate·∇fᵀp, at most 60 tries, else no step).
- The diagonal preconditioner M = (diag(mean_i ∇ℓ_i²) + (λ + κ)I)^0.75, its per-case
  squared gradients ∇ℓ_i² averaged over the whole batch (the whole training set for
  classic HF).
- L2 weight cost ½κ‖θ‖² in the gradient, in G and in the preconditioner.

Two guards that float32 needs and Martens' MATLAB doubles did not: λ never falls below
float32's smallest normal number (repeated × 2/3 reaches exactly 0 after about 225 updates
of ρ > 3/4 from λ = 45, and 0 × 3/2 stays 0), and an update whose chosen CG iterate or its
objective is not finite takes no step, raises λ and restarts CG's warm start from zero.
λ only moves by factors of 3/2 and 2/3, so after a long run of ρ > 3/4 (§5's minibatch phases
find it every time) it climbs back slowly; the engine's HF phases can restart it
(``restart_damping``).

The link to momentum (Sutskever et al. 2013, §5): one CG step from the warm start ζ·p_prev
gives θ + ζ·p_prev − α·(∇f(θ) + ζ(G + λ)p_prev), and ∇f(θ) + ζ(G + λ)p_prev is the model's
gradient at the look-ahead point θ + ζ·p_prev: a NAG update with μ = ζ and the learning
rate α = rᵀr / rᵀ(G + λ)r chosen by the curvature (tests/test_hessian_free.py states it as an
identity). The momentum-like hybrid of §5 is this optimizer with few CG steps on small
minibatches, no line search and a scheduled ε and ζ (``configs/hf_curves.py``).

Loops are ``lax.while_loop`` with static bounds, so one update is one compiled function that
the sweep engine vmaps over a grid of seeds, decay constants and learning rates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

CG_TOLERANCE = 5e-4  # Martens' ε in the relative-progress stopping rule
SAVE_FIRST, SAVE_GROWTH = 5, 1.3  # iterates kept at ⌈5·1.3^j⌉ for backtracking
MIN_DAMPING = float(np.finfo(np.float32).tiny)  # λ's floor: float32's smallest normal number
PRECONDITIONER_POWER = 0.75
LINE_SEARCH_SHRINK, LINE_SEARCH_TRIES, ARMIJO = 0.8, 60, 1e-2
PER_CASE_CHUNK = 32  # cases per vmapped chunk of per-case gradients (bounds memory)


class HessianFreeState(NamedTuple):
  """State of :func:`hessian_free`. The last five fields describe the last update, for logs
  and for counting compute.

  Attributes:
    count: the number of updates done (int32).
    damping: λ, the Levenberg-Marquardt damping.
    previous: the last update's final CG iterate, before the decay ζ (CG's warm start).
    cg_iterations: the CG iterations the last update ran.
    reduction_ratio: ρ of the last update (actual over predicted reduction).
    step_size: ε × the line search's rate, for the last update.
    cost: network passes × cases the last update spent beyond its gradient.
  """

  count: chex.Array  # int32 updates done
  damping: chex.Array  # λ
  previous: optax.Params  # the last update's final CG iterate (before decay)
  cg_iterations: chex.Array  # CG iterations the last update ran
  reduction_ratio: chex.Array  # ρ of the last update
  step_size: chex.Array  # ε × line-search rate of the last update
  cost: chex.Array  # network passes × cases the last update spent beyond ∇f


class CGResult(NamedTuple):
  x: chex.Array  # the last iterate
  iterations: chex.Array
  phi: chex.Array  # [max_iterations + 1]: φ(x_i); entries past ``iterations`` are 0
  saved: chex.Array  # [num_slots, n]: x at the iterations in ``save_iterations``
  num_saved: chex.Array


# --------------------------------------------------------------------- curvature products


def gauss_newton_operator(apply_fn: Callable, output_loss_fn: Callable, params, inputs, targets):
  """v ↦ G v = Jᵀ H_L J v at ``params`` on (inputs, targets), for parameter pytrees v.

  One forward pass here; each product is then a linear forward pass, a Hessian-vector
  product of the (cheap, per-output) loss, and the transposed linear pass.
  """
  outputs, jvp_fn = jax.linearize(lambda p: apply_fn(p, inputs), params)
  vjp_fn = jax.linear_transpose(jvp_fn, params)
  loss_grad = jax.grad(lambda o: output_loss_fn(o, targets))

  def product(v):
    jv = jvp_fn(v)
    hjv = jax.jvp(loss_grad, (outputs,), (jv,))[1]
    return vjp_fn(hjv)[0]

  return product


# --------------------------------------------------------------------- conjugate gradient


def save_iterations(max_iterations: int) -> np.ndarray:
  """The CG iterations whose iterates are kept for backtracking: ⌈5·1.3^j⌉ ≤ cap, and the cap
  (CG keeps its last iterate wherever it stops)."""
  marks, j = set(), 0
  while (mark := math.ceil(SAVE_FIRST * SAVE_GROWTH**j)) <= max_iterations:
    marks.add(mark)
    j += 1
  return np.array(sorted(marks | {max_iterations}), np.int32)


def relative_progress_stop(
  phi: chex.Array, i: chex.Array, tolerance: float = CG_TOLERANCE
) -> chex.Array:
  """Martens' (2010) CG stopping rule at iteration i, given the history φ[0..i]."""
  k = jnp.maximum(10, jnp.ceil(0.1 * i).astype(jnp.int32))
  phi_i = phi[i]
  phi_before = phi[jnp.maximum(i - k, 0)]
  return (i > k) & (phi_i < 0) & ((phi_i - phi_before) / phi_i < k * tolerance)


def conjugate_gradient(
  matvec: Callable,
  g: chex.Array,
  x0: chex.Array,
  preconditioner: chex.Array,
  max_iterations: int,
  tolerance: float = CG_TOLERANCE,
) -> CGResult:
  """Minimizes φ(x) = ½xᵀAx + gᵀx (i.e. solves A x = −g) from x0 by preconditioned CG.

  ``matvec`` is x ↦ A x on flat vectors, A symmetric positive definite; ``preconditioner``
  the diagonal of M (ones for none). Stops by :func:`relative_progress_stop`, at
  ``max_iterations``, or when a direction has no positive curvature.
  """
  slots = save_iterations(max_iterations)
  # slot_of[i]: the row that keeps iterate i; rows past the kept ones are a scratch row, so
  # every iteration writes one row (a cond would copy the whole array under vmap).
  slot_of = np.full(max_iterations + 1, len(slots), np.int32)
  slot_of[slots] = np.arange(len(slots))
  slot_of = jnp.asarray(slot_of)
  r = matvec(x0) + g
  y = r / preconditioner
  phi0 = 0.5 * jnp.vdot(x0, r + g)

  def cond(carry):
    i, *_, done = carry
    return (i < max_iterations) & ~done

  def body(carry):
    i, x, r, y, p, ry, phi, saved, _ = carry
    ap = matvec(p)
    pap = jnp.vdot(p, ap)
    ok = pap > 0  # positive curvature (always, with damping); else stop where we are
    alpha = jnp.where(ok, ry / jnp.where(ok, pap, 1.0), 0.0)
    x_new = x + alpha * p
    r_new = r + alpha * ap
    y_new = r_new / preconditioner
    ry_new = jnp.vdot(r_new, y_new)
    p_new = -y_new + (ry_new / ry) * p
    i_new = jnp.where(ok, i + 1, i)
    phi = phi.at[i_new].set(jnp.where(ok, 0.5 * jnp.vdot(x_new, r_new + g), phi[i_new]))
    saved = saved.at[jnp.where(ok, slot_of[i_new], len(slots))].set(x_new)
    stop = relative_progress_stop(phi, i_new, tolerance) | ~ok
    keep = lambda new, old: jnp.where(ok, new, old)
    return (
      i_new,
      keep(x_new, x),
      keep(r_new, r),
      keep(y_new, y),
      keep(p_new, p),
      keep(ry_new, ry),
      phi,
      saved,
      stop,
    )

  phi = jnp.zeros(max_iterations + 1, g.dtype).at[0].set(phi0)
  saved = jnp.zeros((len(slots) + 1, g.shape[0]), g.dtype)
  init = (jnp.int32(0), x0, r, y, -y, jnp.vdot(r, y), phi, saved, jnp.array(False))
  i, x, _, _, _, _, phi, saved, _ = jax.lax.while_loop(cond, body, init)
  return CGResult(x, i, phi, saved[:-1], jnp.sum(jnp.asarray(slots) <= i).astype(jnp.int32))


# -------------------------------------------------------------------------- damping rule


def levenberg_marquardt(damping: chex.Array, reduction_ratio: chex.Array) -> chex.Array:
  """Martens' λ update: × 3/2 when the model over-predicts (ρ < 1/4) or ρ is NaN, × 2/3 when
  ρ > 3/4; never below ``MIN_DAMPING`` (in float32, × 2/3 would reach exactly 0)."""
  boost = (reduction_ratio < 0.25) | jnp.isnan(reduction_ratio)
  factor = jnp.where(boost, 1.5, jnp.where(reduction_ratio > 0.75, 2.0 / 3.0, 1.0))
  return jnp.maximum(damping * factor, MIN_DAMPING)


# ------------------------------------------------------------------------------ optimizer


ScalarOrSchedule = float | chex.Array | Callable[[chex.Array], chex.Array]


def _value(x: ScalarOrSchedule, count):
  return x(count) if callable(x) else x


def per_case_squared_gradients(loss_of_case, flat0, unravel, inputs, targets):
  """mean_i ∇ℓ_i(θ)² over the cases, in vmapped chunks (memory: chunk × parameters).

  Works for any network, but costs far more than a gradient (every case's gradient is
  materialized); tasks whose layers allow a faster exact form pass ``squared_gradients_fn``.
  """
  n = inputs.shape[0]
  chunk = max(d for d in range(1, min(PER_CASE_CHUNK, n) + 1) if n % d == 0)
  grad_case = jax.grad(lambda flat, x, y: loss_of_case(unravel(flat), x, y))
  reshape = lambda a: a.reshape((n // chunk, chunk) + a.shape[1:])

  def add(total, xy):
    g = jax.vmap(grad_case, in_axes=(None, 0, 0))(flat0, *xy)
    return total + jnp.sum(g * g, axis=0), None

  total, _ = jax.lax.scan(add, jnp.zeros_like(flat0), (reshape(inputs), reshape(targets)))
  return total / n


def hessian_free(
  learning_rate: ScalarOrSchedule = 1.0,
  decay: ScalarOrSchedule = 0.95,
  *,
  initial_damping: float | chex.Array = 1.0,
  weight_cost: float | chex.Array = 0.0,
  max_cg_iterations: int = 250,
  curvature_batch_size: int | None = None,
  preconditioner: bool = True,
  backtracking: bool = True,
  line_search: bool = True,
  cg_tolerance: float = CG_TOLERANCE,
) -> optax.GradientTransformationExtraArgs:
  """Hessian-free optimization (Martens 2010); see the module docstring for every rule.

  ``update(grads, state, params, *, batch, apply_fn, output_loss_fn,
  squared_gradients_fn=None)`` takes the gradient of the loss on ``batch = (inputs,
  targets)`` (cases on axis 0), the network's output function ``apply_fn(params, inputs)``
  and its matching loss ``output_loss_fn(outputs, targets)`` (a mean over cases), and
  optionally ``squared_gradients_fn(params, inputs, targets)``, the mean of the per-case
  squared gradients (for the preconditioner; default: per-case gradients by ``vmap``). It
  returns ε × rate × p, with p the chosen CG iterate.

  Args:
    learning_rate: ε, a multiplier on the step (1 in classic HF; §5's hybrid decays it):
      a float, a traced scalar or a schedule of the update count.
    decay: ζ, the CG warm start's decay constant (0.95 in Martens 2010; §5 schedules it
      like μ); same kinds as ``learning_rate``.
    initial_damping: λ at the first update; Levenberg-Marquardt adjusts it after each.
    weight_cost: κ, the L2 weight cost added to the objective (2e-5 Curves, 1e-5 MNIST).
    max_cg_iterations: the cap on CG iterations per update (static).
    curvature_batch_size: the size of the chunks the batch is split into; update t takes
      its G v products (and ρ, and CG backtracking's objective) on chunk t mod the number
      of chunks (None: the whole batch).
    preconditioner: Martens' diagonal preconditioner (one pass of per-case squared
      gradients over the whole batch).
    backtracking: choose among the kept CG iterates by the objective (else the last).
    line_search: Martens' backtracking line search on the chosen iterate, on the whole
      batch (else rate 1).
    cg_tolerance: ε of the relative-progress stopping rule.

  Returns:
    An ``optax.GradientTransformationExtraArgs``; its state is a :class:`HessianFreeState`.

  Example:
    >>> import jax, jax.numpy as jnp, optax, nesterov_jax as nj
    >>> apply_fn = lambda p, x: x @ p["w"]  # a linear model, squared error
    >>> loss_fn = lambda out, y: 0.5 * jnp.mean(jnp.sum((out - y) ** 2, axis=-1))
    >>> x = jnp.eye(3); y = jnp.ones((3, 1)); params = {"w": jnp.zeros((3, 1))}
    >>> opt = nj.hessian_free(initial_damping=0.0, max_cg_iterations=3)
    >>> state = opt.init(params)
    >>> grads = jax.grad(lambda p: loss_fn(apply_fn(p, x), y))(params)
    >>> updates, state = opt.update(grads, state, params, batch=(x, y), apply_fn=apply_fn,
    ...                             output_loss_fn=loss_fn)
    >>> optax.apply_updates(params, updates)["w"].round(3).ravel().tolist()  # one Newton step
    [1.0, 1.0, 1.0]

  References:
    Martens (2010), Deep learning via Hessian-free optimization, ICML;
    Sutskever, Martens, Dahl and Hinton (2013), Section 5.
  """

  def init_fn(params):
    zero = jnp.zeros((), jnp.float32)
    return HessianFreeState(
      jnp.zeros((), jnp.int32),
      jnp.asarray(initial_damping, jnp.float32),
      jax.tree.map(jnp.zeros_like, params),
      jnp.zeros((), jnp.int32),
      zero,
      zero,
      zero,
    )

  def update_fn(
    grads, state, params, *, batch, apply_fn, output_loss_fn, squared_gradients_fn=None
  ):
    inputs, targets = batch
    n_grad = inputs.shape[0]
    n_curv = n_grad if curvature_batch_size is None else min(curvature_batch_size, n_grad)
    # Martens' fixed chunks in turn: update t takes its curvature on chunk t mod (n_grad // n_curv).
    chunk_start = (state.count % (n_grad // n_curv)) * n_curv
    c_inputs = jax.lax.dynamic_slice_in_dim(inputs, chunk_start, n_curv)
    c_targets = jax.lax.dynamic_slice_in_dim(targets, chunk_start, n_curv)
    flat, unravel = ravel_pytree(params)
    kappa = jnp.asarray(weight_cost, flat.dtype)
    damping = state.damping
    lr, zeta = _value(learning_rate, state.count), _value(decay, state.count)

    def objective_on(x, y):
      return lambda flat_params: (
        output_loss_fn(apply_fn(unravel(flat_params), x), y)
        + 0.5 * kappa * jnp.vdot(flat_params, flat_params)
      )

    objective = objective_on(inputs, targets)  # f on the whole batch: the line search
    chunk_objective = objective_on(
      c_inputs, c_targets
    )  # f_c on the curvature chunk: backtracking, ρ
    not_nan = lambda f: jnp.where(jnp.isnan(f), jnp.inf, f)  # a NaN objective never looks better

    g = ravel_pytree(grads)[0] + kappa * flat
    gv = gauss_newton_operator(apply_fn, output_loss_fn, params, c_inputs, c_targets)
    matvec = lambda v: ravel_pytree(gv(unravel(v)))[0] + (kappa + damping) * v
    cost = 1.0 * n_curv  # the linearization's forward pass
    if preconditioner:  # statistics over the whole batch, as Martens' code takes them
      if squared_gradients_fn is None:
        loss_of_case = lambda p, x, y: output_loss_fn(apply_fn(p, x[None]), y[None])
        sq = per_case_squared_gradients(loss_of_case, flat, unravel, inputs, targets)
      else:
        sq = ravel_pytree(squared_gradients_fn(params, inputs, targets))[0]
      m = (sq + damping + kappa) ** PRECONDITIONER_POWER
      cost += 2.0 * n_grad
    else:
      m = jnp.ones_like(flat)
    x0 = zeta * ravel_pytree(state.previous)[0]
    cg = conjugate_gradient(matvec, g, x0, m, max_cg_iterations, cg_tolerance)
    cost += 2.0 * n_curv * (cg.iterations + 1)  # + the initial residual's product
    f0_chunk = chunk_objective(flat)
    iters_of_slot = jnp.asarray(save_iterations(max_cg_iterations))

    # CG backtracking: from the last iterate, step back through the kept ones while f_c falls.
    f_last = not_nan(chunk_objective(flat + cg.x))
    chunk_evals = jnp.float32(2.0)  # f_c(θ), f_c(θ + last)
    if backtracking:
      last_is_saved = iters_of_slot[jnp.maximum(cg.num_saved - 1, 0)] == cg.iterations
      start = cg.num_saved - 1 - (last_is_saved & (cg.num_saved > 0)).astype(jnp.int32)

      def back_cond(c):
        j, _, _, improving, _ = c
        return (j >= 0) & improving

      def back_body(c):
        j, best_f, best_slot, _, evals = c
        f_j = not_nan(chunk_objective(flat + cg.saved[j]))
        better = f_j < best_f
        return (
          j - 1,
          jnp.where(better, f_j, best_f),
          jnp.where(better, j, best_slot),
          better,
          evals + 1,
        )

      _, f_new, best_slot, _, chunk_evals = jax.lax.while_loop(
        back_cond, back_body, (start, f_last, jnp.int32(-1), jnp.array(True), chunk_evals)
      )
      p = jnp.where(best_slot < 0, cg.x, cg.saved[jnp.maximum(best_slot, 0)])
      chosen_iter = jnp.where(
        best_slot < 0, cg.iterations, iters_of_slot[jnp.maximum(best_slot, 0)]
      )
    else:
      f_new, chosen_iter, p = f_last, cg.iterations, cg.x
    cost += chunk_evals * n_curv

    # A chosen iterate that is not finite, or whose objective is not, never reaches θ: no step,
    # λ raised (ρ = NaN), and the next CG starts cold.
    finite = jnp.all(jnp.isfinite(p)) & jnp.isfinite(f_new)
    p = jnp.where(finite, p, 0.0)

    # Levenberg-Marquardt: ρ against the undamped model q(p) = φ(p) − ½λ‖p‖², on the chunk.
    q = cg.phi[chosen_iter] - 0.5 * damping * jnp.vdot(p, p)
    rho = jnp.where(q < 0, (f_new - f0_chunk) / jnp.where(q < 0, q, -1.0), -jnp.inf)
    rho = jnp.where(finite, rho, jnp.nan)
    new_damping = levenberg_marquardt(damping, rho)

    if line_search:  # on the whole batch
      f0, slope = objective(flat), jnp.vdot(g, p)

      def ls_cond(c):
        rate, f_rate, tries = c
        return (f_rate > f0 + ARMIJO * rate * slope) & (tries < LINE_SEARCH_TRIES)

      def ls_body(c):
        rate, _, tries = c
        rate = rate * LINE_SEARCH_SHRINK
        return rate, not_nan(objective(flat + rate * p)), tries + 1

      rate, f_rate, tries = jax.lax.while_loop(
        ls_cond, ls_body, (jnp.float32(1.0), not_nan(objective(flat + p)), jnp.int32(0))
      )
      rate = jnp.where(f_rate <= f0 + ARMIJO * rate * slope, rate, 0.0)
      cost += (2.0 + tries) * n_grad
    else:
      rate = jnp.float32(1.0)
    step = lr * rate
    warm = jnp.where(jnp.all(jnp.isfinite(cg.x)), cg.x, 0.0)
    new_state = HessianFreeState(
      state.count + 1,
      new_damping,
      unravel(warm),
      cg.iterations,
      rho.astype(jnp.float32),
      jnp.asarray(step, jnp.float32),
      jnp.asarray(cost, jnp.float32),
    )
    return unravel(step * p), new_state

  return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def restart_damping(
  opt_state: HessianFreeState, damping: float, when: chex.Array
) -> HessianFreeState:
  """λ set to ``damping`` where ``when``: Levenberg-Marquardt restarted (e.g. at a switch from
  §5's minibatch phases, which drive λ toward 0, back to classic full-batch HF)."""
  return opt_state._replace(damping=jnp.where(when, jnp.float32(damping), opt_state.damping))


def extra_cost(opt_state: Any) -> chex.Array:
  """Network passes × cases the last update spent beyond the caller's gradient (0 unless HF)."""
  return opt_state.cost if isinstance(opt_state, HessianFreeState) else jnp.float32(0.0)


def diagnostics(opt_state: Any) -> dict[str, chex.Array]:
  """The last update's λ, CG iterations, ρ and step size, for logs (empty for other states)."""
  if not isinstance(opt_state, HessianFreeState):
    return {}
  return {
    "damping": opt_state.damping,
    "cg_iterations": opt_state.cg_iterations.astype(jnp.float32),
    "reduction_ratio": opt_state.reduction_ratio,
    "step_size": opt_state.step_size,
  }
