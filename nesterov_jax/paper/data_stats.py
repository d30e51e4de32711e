"""Statistics of an image data set that need no trained network, beside the original Curves'.

Each is a held-out squared error per image (summed over pixels, averaged over images) of a
reconstruction fitted on the training images:

- ``mean_image``: every image reconstructed as the training set's mean image (what an
  autoencoder outputs before it learns anything), and that reconstruction's cross-entropy.
- ``pca_k``: standard PCA with ``k`` components (the training mean plus the projection on
  the top ``k`` eigenvectors of the training covariance).
- ``logistic_pca_k``: logistic PCA (Collins, Dasgupta & Schapire 2002): pixel ``d`` of image
  ``n`` is sigmoid(b_d + u_n·v_d), fitted by maximum likelihood (the cross-entropy) with a
  ridge penalty ½λ(|u_n|² + |v_d|²); a held-out image's code u is fitted with b and V
  fixed. Without the penalty the fit does not converge: pixels that are 0 in every image
  drive their logits to −∞, and held-out errors rise above the mean image's. λ is chosen
  from :data:`PENALTIES` by the error on the last fifth of the training images, fitting on
  the rest; the model is then refitted on all of them. A fit runs to convergence: alternating
  Newton steps on the codes and on the pixels' weights (each a set of small, independent,
  convex problems) until the objective falls by less than 1e-6 of itself in one round.

:data:`ORIGINAL_CURVES` holds the original Curves' published values, with their sources.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

PENALTIES = (0.1, 0.3, 1.0, 3.0)


@dataclasses.dataclass(frozen=True)
class Reference:
  value: float
  band: float  # the relative tolerance a generator calibrated against it must meet
  source: str


# The original Curves (digs3pts_1.mat; 20,000 train / 10,000 test), held-out errors per image.
ORIGINAL_CURVES = {
  "pca_18": Reference(5.90, 0.10, "Hinton & Salakhutdinov 2006, Science, Fig. 2A caption"),
  "logistic_pca_6": Reference(7.64, 0.15, "same caption"),
  "logistic_pca_18": Reference(2.45, 0.15, "same caption"),
  "mean_image": Reference(
    16.9,
    0.15,
    "public K-FAC Curves log: its plateau (16.92 train / 16.97 test) "
    "while the network outputs the mean image; an inference",
  ),
  "mean_image_cross_entropy": Reference(
    126.5, 0.15, "the same plateau's log-likelihood; an inference"
  ),
}


def mean_image(train: np.ndarray, test: np.ndarray) -> dict[str, float]:
  """Held-out squared error and cross-entropy of the training mean image."""
  mean = train.mean(0, dtype=np.float64)
  clipped = np.clip(mean, 1e-7, 1 - 1e-7)
  cross_entropy = -(test * np.log(clipped) + (1 - test) * np.log1p(-clipped)).sum(1).mean()
  return {
    "mean_image": float(((test - mean) ** 2).sum(1).mean()),
    "mean_image_cross_entropy": float(cross_entropy),
  }


def pca_error(train: np.ndarray, test: np.ndarray, k: int) -> float:
  """Held-out squared error per image of standard PCA with ``k`` components."""
  mean = train.mean(0, dtype=np.float64)
  centred = train - mean
  _, vectors = np.linalg.eigh(centred.T @ centred)
  top = vectors[:, ::-1][:, :k]
  residual = (test - mean) - (test - mean) @ top @ top.T
  return float((residual**2).sum(1).mean())


@jax.jit
def _newton_rows(codes, weights, offset, targets, penalty, penalized):
  """One Newton step, with backtracking, on each row's penalized logistic regression:
  Σ_d CE(sigmoid(offset + codes·weightsᵀ), targets) + ½ penalty |codes ⊙ penalized|²."""

  def objective(c):
    ce = optax.sigmoid_binary_cross_entropy(offset + c @ weights.T, targets)
    return jnp.sum(ce, axis=1) + 0.5 * penalty * jnp.sum((c * penalized) ** 2, axis=1)

  p = jax.nn.sigmoid(offset + codes @ weights.T)
  grad = (p - targets) @ weights + penalty * codes * penalized
  hess = jnp.einsum("nd,dk,dl->nkl", p * (1 - p), weights, weights) + jnp.diag(
    penalty * penalized + 1e-6
  )
  step = jnp.linalg.solve(hess, grad[..., None])[..., 0]

  def backtrack(carry, size):
    best, best_f = carry
    trial = codes - size * step
    f = objective(trial)
    better = f < best_f
    return (jnp.where(better[:, None], trial, best), jnp.where(better, f, best_f)), None

  (codes, f), _ = jax.lax.scan(backtrack, (codes, objective(codes)), 0.5 ** jnp.arange(8.0))
  return codes, jnp.sum(f)


def _converge(step, state, tol=1e-6, max_rounds=500):
  previous = None
  for _ in range(max_rounds):
    state, f = step(state)
    if previous is not None and previous - f <= tol * abs(f):
      break
    previous = f
  return state


def fit_logistic_pca(train: np.ndarray, k: int, penalty: float):
  """(b [D], V [D, k], U [N, k]) of logistic PCA on ``train`` (module docstring)."""
  x = jnp.asarray(train, jnp.float32)
  n = x.shape[0]
  mean = jnp.clip(x.mean(0), 1e-3, 1 - 1e-3)
  _, _, top = jnp.linalg.svd(
    x[:5000] - x.mean(0), full_matrices=False
  )  # start from PCA's directions
  ones_k, bias_free = jnp.ones(k), jnp.concatenate([jnp.zeros(1), jnp.ones(k)])

  def round_(state):
    b, v, u = state
    u, _ = _newton_rows(u, v, b, x, penalty, ones_k)
    w, f = _newton_rows(
      jnp.concatenate([b[:, None], v], 1),
      jnp.concatenate([jnp.ones((n, 1)), u], 1),
      0.0,
      x.T,
      penalty,
      bias_free,
    )
    return (w[:, 0], w[:, 1:], u), float(f)

  return _converge(round_, (jnp.log(mean / (1 - mean)), 4.0 * top[:k].T, jnp.zeros((n, k))))


def logistic_pca_reconstruction_error(b, v, images: np.ndarray, penalty: float) -> float:
  """Squared error per image of ``images`` reconstructed by logistic PCA's fixed (b, V)."""
  x = jnp.asarray(images, jnp.float32)

  def round_(u):
    u, f = _newton_rows(u, v, b, x, penalty, jnp.ones(v.shape[1]))
    return u, float(f)

  u = _converge(round_, jnp.zeros((x.shape[0], v.shape[1])), tol=1e-8)
  return float(jnp.mean(jnp.sum((jax.nn.sigmoid(b + u @ v.T) - x) ** 2, axis=1)))


def logistic_pca_error(
  train: np.ndarray, test: np.ndarray, k: int, penalties: tuple[float, ...] = PENALTIES
) -> tuple[float, float]:
  """(held-out squared error per image, the chosen λ) of logistic PCA with ``k`` components."""
  cut = len(train) * 4 // 5
  if len(penalties) > 1:
    validation = {
      lam: logistic_pca_reconstruction_error(
        *fit_logistic_pca(train[:cut], k, lam)[:2], train[cut:], lam
      )
      for lam in penalties
    }
    penalty = min(validation, key=validation.get)
  else:
    penalty = penalties[0]
  b, v, _ = fit_logistic_pca(train, k, penalty)
  return logistic_pca_reconstruction_error(b, v, test, penalty), penalty


def statistics(
  train: np.ndarray,
  test: np.ndarray,
  logistic: bool = True,
  penalties: tuple[float, ...] = PENALTIES,
) -> dict[str, float]:
  """Every statistic of :data:`ORIGINAL_CURVES` for one data set (``logistic`` False leaves
  out logistic PCA, the slow one: minutes on two cores), plus PCA-6 and the chosen λ."""
  train, test = np.asarray(train, np.float64), np.asarray(test, np.float64)
  stats = {
    "pca_6": pca_error(train, test, 6),
    "pca_18": pca_error(train, test, 18),
    **mean_image(train, test),
  }
  if logistic:
    for k in (6, 18):
      stats[f"logistic_pca_{k}"], stats[f"logistic_pca_{k}_penalty"] = logistic_pca_error(
        train, test, k, penalties
      )
  return stats


def within_band(name: str, value: float) -> bool:
  ref = ORIGINAL_CURVES[name]
  return abs(value / ref.value - 1) <= ref.band


def markdown(stats: dict[str, float], provenance: str) -> str:
  """A table of ``stats`` beside the original Curves' values, bands and sources."""
  lines = [
    f"Data: {provenance}.",
    "",
    "| statistic (held-out, per image) | this data | original Curves | band | within | source |",
    "|---|---|---|---|---|---|",
  ]
  for name, value in stats.items():
    if name.endswith("_penalty"):
      continue
    label = name.replace("_", " ") + (
      f" (λ = {stats[name + '_penalty']:g})" if name + "_penalty" in stats else ""
    )
    ref = ORIGINAL_CURVES.get(name)
    if ref is None:
      lines.append(f"| {label} | {value:.4g} | not published | | | |")
    else:
      lines.append(
        f"| {label} | {value:.4g} | {ref.value:g} | ±{ref.band:.0%} | "
        f"{'yes' if within_band(name, value) else f'no ({value / ref.value:.2f}×)'} | {ref.source} |"
      )
  return "\n".join(lines) + "\n"
