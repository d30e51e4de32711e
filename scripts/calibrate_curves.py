"""The search that set the calibrated Curves generator's pen (nesterov_jax/paper/curves.py).

    python scripts/calibrate_curves.py      # about 5 minutes on two CPU cores

For each range of the points (margin) and each pen (half-width, blur), the peak intensity is
set so that the mean image's held-out error is the original's 16.9 (a peak above 1 is capped
at 1). The pen's shape then sets the two other statistics: standard PCA-18's held-out error
(original 5.90) and the mean image's cross-entropy (≈ 126.5). The setting whose larger
relative miss of the two is smallest wins. The search uses 8,000 training and 4,000
held-out curves; `nesterov-jax data curves` measures the winner on 20,000 and 10,000.
Logistic PCA is left out of the search: the rendering barely moves it (docs/curves_data.md).
"""

import itertools

import jax
import numpy as np

from nesterov_jax.paper import curves, data_stats

MARGINS = (3.0, 4.0, 5.0, 6.0)
HALF_WIDTHS = (0.5, 0.75, 1.0, 1.25, 1.5)
BLURS = (0.5, 0.6, 0.7, 0.8, 0.9)
NUM_TRAIN, NUM_TEST = 8_000, 4_000


def main():
  target = {k: data_stats.ORIGINAL_CURVES[k].value for k in ("mean_image", "pca_18", "mean_image_cross_entropy")}
  rows = []
  for margin in MARGINS:
    distances = np.asarray(curves.curve_distances(jax.random.key(0), NUM_TRAIN + NUM_TEST, margin=margin))
    for half_width, blur in itertools.product(HALF_WIDTHS, BLURS):
      unit = np.asarray(curves.pen(distances, half_width, blur, 1.0), np.float64)
      spread = data_stats.mean_image(unit[:NUM_TRAIN], unit[NUM_TRAIN:])["mean_image"]
      peak = min(1.0, float(np.sqrt(target["mean_image"] / spread)))  # the mean image's error scales as peak²
      images = peak * unit
      stats = {"pca_18": data_stats.pca_error(images[:NUM_TRAIN], images[NUM_TRAIN:], 18),
               **data_stats.mean_image(images[:NUM_TRAIN], images[NUM_TRAIN:])}
      miss = max(abs(stats[k] / target[k] - 1) for k in target)
      rows.append((miss, margin, half_width, blur, peak, stats))
      print(f"margin {margin:g} half-width {half_width:g} blur {blur:g}: peak {peak:.2f}, mean image "
            f"{stats['mean_image']:.2f}, PCA-18 {stats['pca_18']:.2f}, cross-entropy "
            f"{stats['mean_image_cross_entropy']:.1f} (largest miss {miss:.1%})", flush=True)
  miss, margin, half_width, blur, peak, _ = min(rows, key=lambda r: r[0])
  print(f"\nbest: margin {margin:g}, half-width {half_width:g}, blur {blur:g}, peak {peak:.2f} "
        f"(largest miss {miss:.1%}); curves.py has margin {curves.MARGIN:g}, half-width "
        f"{curves.PEN_HALF_WIDTH:g}, blur {curves.PEN_BLUR:g}, peak {curves.PEAK_INTENSITY:g}")


if __name__ == "__main__":
  main()
