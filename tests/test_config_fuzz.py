"""Random override values for every field of configs/teacher_mlp.py never end in a traceback."""

import math
import pathlib

import ml_collections
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nesterov_jax import cli
from nesterov_jax.engine import grid, train
from nesterov_jax.engine.tasks import make_task

ROOT = pathlib.Path(__file__).parents[1]
SMOKE = f"{ROOT / 'configs' / 'teacher_mlp.py'}:smoke"


def _fields(config: ml_collections.ConfigDict, prefix: str = "") -> list[str]:
  out = []
  for key, value in config.items():
    if isinstance(value, ml_collections.ConfigDict):
      out += _fields(value, f"{prefix}{key}.")
    else:
      out.append(prefix + key)
  return out


FIELDS = _fields(cli.load_config(SMOKE))
scalars = st.one_of(
  st.integers(-10, 10_000),
  st.floats(allow_nan=True, allow_infinity=True),
  st.booleans(),
  st.none(),
  st.text(max_size=8),
  st.sampled_from(["nag", "cm", "hf", "eq5", "rnn"]),
)
values = st.one_of(scalars, st.tuples(scalars), st.tuples(scalars, scalars), st.just(()))


@pytest.fixture(scope="module")
def no_training():
  """Valid configs stop after the checks and the task's construction (before compiling)."""
  real = train.run

  def built(config, workdir):
    grid.validate(config)
    make_task(config.task)
    return []

  train.run = built
  yield
  train.run = real


def _literal(value) -> str:
  if isinstance(value, float) and not math.isfinite(value):
    return repr(value)  # nan / inf: the CLI reads these as bare words
  return repr(value)


@settings(
  max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(FIELDS), value=values)
def test_random_overrides_end_in_a_run_or_one_line(
  no_training, tmp_path_factory, capsys, field, value
):
  workdir = tmp_path_factory.mktemp("fuzz")
  status = cli.main(
    ["run", SMOKE, "--workdir", str(workdir), f"--config.{field}={_literal(value)}"]
  )
  err = capsys.readouterr().err
  assert status in (0, 2), err
  if status == 2:
    assert (
      err.startswith("nesterov-jax: error: ") and err.count("\n") == 1 and "Traceback" not in err
    )
