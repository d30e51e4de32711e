"""Our two Curves generators: 28×28 images of a smooth curve through 3 random points.

The paper's Curves file (``digs3pts_1.mat``, Ruslan Salakhutdinov's) is not shipped with any
pip package, so by default we draw our own. What the sources say about the original:
28×28 images of curves through 3 random 2-D points (6 degrees of freedom), intensities in
[0, 1] (Hinton & Salakhutdinov 2006). Nothing public that we could find gives the curve
family, the pen or the intensities. So:

- ``"v1"`` (:func:`render_curves`), our first generator, takes those from a guess. Its
  images are a harder problem than the original's: every published statistic of the
  original data is about twice as large on ours (``nesterov-jax data curves`` prints them).
  Every Curves run committed before the calibrated generator used it (their records call it
  "our generator").
- ``"calibrated"`` (:func:`render_calibrated_curves`), the default, keeps the described
  parts (3 uniform points, a smooth curve through them) and sets the undescribed ones (the
  points' range and order, the pen, the peak intensity) so that the data's own statistics
  match the original's published ones: the held-out error of standard PCA with 18
  components (5.90 in Fig. 2A's caption of Hinton & Salakhutdinov 2006), the error of the
  mean image (≈ 16.9) and its cross-entropy (≈ 126.5), read off the public K-FAC Curves log,
  where the network sat at the mean image). No trained optimizer's result was used: those
  are what the runs test. :mod:`nesterov_jax.paper.data_stats` computes the statistics.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

GENERATORS = ("calibrated", "v1")
# How a run's records name its data. Runs made before the calibrated generator existed say
# "curves through 3 random points (our generator, seed N)": that is v1.
DESCRIPTIONS = {
  "calibrated": "curves through 3 random points (our calibrated generator)",
  "v1": "curves through 3 random points (our first generator, v1)",
}
# The calibrated generator's settings (scripts/calibrate_curves.py reruns the search that chose them): points uniform in [MARGIN, 27 − MARGIN]² (pixel centres at 0…27),
# ordered left to right; a pen of half-width PEN_HALF_WIDTH blurred by a Gaussian of
# PEN_BLUR pixels; PEAK_INTENSITY at the stroke's centre.
MARGIN = 4.0
PEN_HALF_WIDTH = 1.25
PEN_BLUR = 0.6
PEAK_INTENSITY = 0.74
_SAMPLES = 96  # points along each curve; its polyline's segments are drawn exactly


def _quadratic_through(points_Nx3x2: jax.Array, samples: int) -> jax.Array:
  """The quadratic curve c(t) with c(0), c(½), c(1) the three points: [N, samples, 2]."""
  t = jnp.linspace(0.0, 1.0, samples)[:, None]
  basis = jnp.concatenate(
    [2 * (t - 0.5) * (t - 1), -4 * t * (t - 1), 2 * t * (t - 0.5)], axis=1
  )  # Lagrange
  return jnp.einsum("sk,nkd->nsd", basis, points_Nx3x2)


def render_curves(key: jax.Array, num: int, size: int = 28, thickness: float = 0.9) -> jax.Array:
  """Generator ``"v1"``: ``num`` [size²] images, intensities in [0, 1].

  Three points uniform in the image (a margin of 2 pixels), unordered; the quadratic
  through them at t = 0, ½, 1; a Gaussian pen of ``thickness`` pixels, each pixel its
  strongest touch (peak 1). Unordered points make hairpins: both end tangents point the
  same way in most images.
  """
  points = jax.random.uniform(key, (num, 3, 2), minval=2.0, maxval=size - 3.0)
  curve = _quadratic_through(points, 64)
  grid = jnp.stack(jnp.meshgrid(jnp.arange(size), jnp.arange(size), indexing="ij"), -1).reshape(
    -1, 2
  )

  def one(c):
    d2 = jnp.sum((grid[:, None, :] - c[None, :, :]) ** 2, axis=-1)  # [pixels, 64]
    return jnp.exp(-jnp.min(d2, axis=1) / (2 * thickness**2))

  return jax.lax.map(one, curve, batch_size=256)


def distance_to_polyline(curve_Sx2: jax.Array, size: int) -> jax.Array:
  """Each pixel centre's distance to the polyline through ``curve_Sx2``'s points: [size²]."""
  cols, rows = jnp.meshgrid(jnp.arange(size), jnp.arange(size), indexing="xy")
  pixels = jnp.stack([cols.ravel(), rows.ravel()], -1).astype(curve_Sx2.dtype)  # (x, y) per pixel
  start, seg = curve_Sx2[:-1], curve_Sx2[1:] - curve_Sx2[:-1]
  rel = pixels[:, None, :] - start[None]
  along = jnp.clip(jnp.sum(rel * seg, -1) / jnp.maximum(jnp.sum(seg * seg, -1), 1e-12), 0.0, 1.0)
  d2 = jnp.sum((rel - along[..., None] * seg) ** 2, -1)
  return jnp.sqrt(jnp.min(d2, axis=1))


def pen(distance: jax.Array, half_width: float, blur: float, peak: float) -> jax.Array:
  """Intensity at ``distance`` from a stroke's centre line: a band of ``half_width`` on each
  side convolved with a Gaussian of ``blur`` pixels (a soft-edged stroke; a Gaussian pen when
  ``half_width`` is 0), scaled so the centre line has ``peak``."""
  if half_width == 0:
    return peak * jnp.exp(-(distance**2) / (2 * blur**2))
  band = norm.cdf((half_width - distance) / blur) + norm.cdf((half_width + distance) / blur) - 1
  return peak * band / (2 * norm.cdf(half_width / blur) - 1)


def _ordered_curves(key: jax.Array, num: int, size: int, margin: float) -> jax.Array:
  """Three points uniform in [margin, size − 1 − margin]², ordered by x (so the curve runs
  left to right, an arc, not a hairpin), and the quadratic through them at t = 0, ½, 1
  (6 degrees of freedom): [num, samples, 2]."""
  points = jax.random.uniform(key, (num, 3, 2), minval=margin, maxval=size - 1.0 - margin)
  points = jnp.take_along_axis(points, jnp.argsort(points[..., 0], axis=1)[..., None], axis=1)
  return _quadratic_through(points, _SAMPLES)


def curve_distances(key: jax.Array, num: int, size: int = 28, margin: float = MARGIN) -> jax.Array:
  """Each pixel's distance to each of the calibrated generator's ``num`` curves: [num, size²]
  (the calibration's search draws them once and tries every pen on them)."""
  return jax.lax.map(
    lambda c: distance_to_polyline(c, size), _ordered_curves(key, num, size, margin), batch_size=256
  )


def render_calibrated_curves(
  key: jax.Array,
  num: int,
  size: int = 28,
  margin: float = MARGIN,
  half_width: float = PEN_HALF_WIDTH,
  blur: float = PEN_BLUR,
  peak: float = PEAK_INTENSITY,
) -> jax.Array:
  """Generator ``"calibrated"``: ``num`` [size²] images, intensities in [0, ``peak``]: the
  curves of :func:`curve_distances` drawn with :func:`pen`. The defaults are calibrated
  (module docstring); ``nesterov-jax data curves`` measures the statistics beside the
  original's, and scripts/calibrate_curves.py reruns the search that chose them."""
  one = lambda c: pen(distance_to_polyline(c, size), half_width, blur, peak)
  return jax.lax.map(one, _ordered_curves(key, num, size, margin), batch_size=256)


def render(generator: str, key: jax.Array, num: int) -> jax.Array:
  """``num`` images from the generator named ``generator`` (one of :data:`GENERATORS`)."""
  if generator == "calibrated":
    return render_calibrated_curves(key, num)
  if generator == "v1":
    return render_curves(key, num)
  raise ValueError(f"unknown Curves generator {generator!r}; choose from {', '.join(GENERATORS)}")
