"""Settings every test shares.

The matmul precision is pinned to full fp32 ("highest"), as the runs use it, so the suite's
tolerances mean the same on a GPU (where JAX's default is TF32) as on a CPU. Checks of
bitwise equality (a resumed run against an uninterrupted one) are for CPUs, where XLA's
reductions are deterministic; they are marked ``cpu_bitwise`` and skipped elsewhere.
"""

import jax
import pytest

jax.config.update("jax_default_matmul_precision", "highest")


def pytest_collection_modifyitems(config, items):
  if jax.default_backend() == "cpu":
    return
  skip = pytest.mark.skip(reason="bitwise equality is checked on CPUs only")
  for item in items:
    if "cpu_bitwise" in item.keywords:
      item.add_marker(skip)
