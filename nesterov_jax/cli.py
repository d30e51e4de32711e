"""The ``nesterov-jax`` command.

    nesterov-jax run CONFIG.py[:preset] [--workdir DIR] [--config.FIELD=VALUE ...]
    nesterov-jax report DIR
    nesterov-jax merge OUT DIR DIR [DIR ...]
    nesterov-jax bench [--out DIR] [--preset quick|smoke|cpu|halving|gpu|gpu_check]
    nesterov-jax data curves [--generator calibrated|v1] [--data-dir DIR] [--out DIR] [--no-logistic]

A config names its experiment (``config.experiment``); the experiment program lives in
the repository's ``experiments/`` folder (installed as ``nesterov_jax.experiments``) and
exposes ``run(config, workdir)``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pathlib
import sys

try:
  import ml_collections  # noqa: F401 -- the engine's extra: here to say so when it is missing

  from nesterov_jax.engine import files, report, stopping
  from nesterov_jax.engine.config import ConfigError, load_config, search_from_run, write_source
  from nesterov_jax.engine.tasks import DataError
  from nesterov_jax.engine.train import prepare_workdir
except ImportError as e:  # installed without the engine's extra: main() says what to install
  _MISSING = e
else:
  _MISSING = None

# What each optional dependency is for: a run that needs one that is missing says which extra
# to install (the library itself needs only jax, optax and chex).
EXTRAS = {
  "ml_collections": "engine",
  "orbax": "engine",
  "matplotlib": "engine",
  "tqdm": "engine",
  "tensorboardX": "tensorboard",
  "flax": "paper",
  "scipy": "paper",
  "mlxtend": "paper",
  "skimage": "paper",
}


def default_workdir(spec: str) -> pathlib.Path:
  path, _, preset = spec.partition(":")
  return pathlib.Path("runs") / (pathlib.Path(path).stem + (f"_{preset}" if preset else ""))


# Experiments renamed since runs were recorded under the old name (their config.json says it).
RENAMED = {"hf": "hf_comparison"}


def _experiment(config) -> object:
  name = RENAMED.get(config.get("experiment"), config.get("experiment"))
  try:
    return importlib.import_module(f"nesterov_jax.experiments.{name}")
  except ModuleNotFoundError as e:
    raise ConfigError(f"unknown experiment {name!r} (no experiments/{name}.py)") from e


def _fail(message: str, status: int) -> int:
  print(f"nesterov-jax: error: {' '.join(str(message).split())}", file=sys.stderr)
  return status


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="nesterov-jax", description=__doc__.splitlines()[0])
  parser.add_argument(
    "--traceback",
    action="store_true",
    help="on an error, show the full Python traceback instead of one line",
  )
  commands = parser.add_subparsers(dest="command", required=True)
  run = commands.add_parser("run", help="run an experiment from a config file")
  run.add_argument("config", help="CONFIG.py or CONFIG.py:preset")
  run.add_argument(
    "--workdir", type=pathlib.Path, help="run directory (default runs/<config>_<preset>)"
  )
  run.add_argument(
    "--traceback",
    action="store_true",
    default=argparse.SUPPRESS,
    help="on an error, show the full Python traceback instead of one line",
  )
  distributed = run.add_argument_group(
    "multi-process", "run one process per host (or per group of devices); all share the grid"
  )
  distributed.add_argument("--coordinator", help="HOST:PORT of process 0's coordination service")
  distributed.add_argument("--num-processes", type=int)
  distributed.add_argument("--process-id", type=int)
  distributed.add_argument(
    "--heartbeat-timeout",
    type=int,
    default=HEARTBEAT_TIMEOUT_S,
    metavar="SECONDS",
    help="a process silent this long counts as lost, and every other process ends "
    f"(default {HEARTBEAT_TIMEOUT_S})",
  )
  report_cmd = commands.add_parser("report", help="tables and plots from a run directory")
  report_cmd.add_argument("workdir", type=pathlib.Path)
  report_cmd.add_argument(
    "--against",
    type=pathlib.Path,
    metavar="FULL_RUN",
    help="for a run with successive halving: the same grid run in full; writes "
    "halving_vs_full.md (the ε each chose, the compute, the wall time)",
  )
  report_cmd.add_argument(
    "--timing",
    type=pathlib.Path,
    metavar="SHORT_FULL_RUN",
    help="with --against: a short run (three chunks or more) of the same full grid on the "
    "halving run's machine, whose chunk times estimate the full grid's wall time there",
  )
  merge_cmd = commands.add_parser(
    "merge", help="one report from several finished runs of one protocol (more seeds, a split grid)"
  )
  merge_cmd.add_argument("out", type=pathlib.Path, help="the merged run directory to write")
  merge_cmd.add_argument(
    "workdirs", type=pathlib.Path, nargs="+", help="the finished run directories"
  )
  bench_cmd = commands.add_parser("bench", help="engine vs naive optax vmap vs a sequential loop")
  bench_cmd.add_argument("--out", type=pathlib.Path, help="write bench.json and bench.md here")
  bench_cmd.add_argument(
    "--preset",
    choices=("quick", "smoke", "cpu", "halving", "gpu", "gpu_check"),
    help="what to measure (default: gpu on an accelerator, else cpu; quick: seconds)",
  )
  data_cmd = commands.add_parser(
    "data", help="a data set's statistics beside the original's, and a sheet of images"
  )
  data_cmd.add_argument("dataset", choices=("curves",))
  data_cmd.add_argument(
    "--generator", default="calibrated", help="calibrated (the default) or v1, our first"
  )
  data_cmd.add_argument(
    "--data-dir", default="", help="a folder holding the original digs3pts_1.mat instead"
  )
  data_cmd.add_argument(
    "--out", type=pathlib.Path, help="where to write (default runs/data_curves_<generator>)"
  )
  data_cmd.add_argument(
    "--no-logistic",
    dest="logistic",
    action="store_false",
    help="leave out logistic PCA (it takes minutes on two cores)",
  )
  data_cmd.add_argument(
    "--num-train", type=int, default=20_000, help="training images (default 20,000, the original's)"
  )
  data_cmd.add_argument(
    "--num-test", type=int, default=10_000, help="held-out images (default 10,000, the original's)"
  )
  args, extra = parser.parse_known_args(argv)
  if args.command != "run" and extra:
    parser.error(f"unrecognized arguments: {' '.join(extra)}")
  if _MISSING is not None:
    return _fail(_missing_extra(_MISSING) or f"{type(_MISSING).__name__}: {_MISSING}", 2)
  distributed = args.command == "run" and bool(args.coordinator)
  if distributed and not os.environ.get(SUPERVISED_ENV):
    return _supervise(list(sys.argv[1:] if argv is None else argv), args)
  use_cpu_cores_as_devices()
  try:
    return _command(args, extra, parser)
  except stopping.Stopped as e:  # SIGTERM or Ctrl-C: the checkpoint is saved
    print(f"nesterov-jax: {e}", file=sys.stderr)
    return stopping.STOPPED_STATUS
  except KeyboardInterrupt:  # a second Ctrl-C (or the first, before training starts)
    status = _fail(
      "interrupted; the run's last checkpoint stays usable: rerun the same command to resume",
      stopping.INTERRUPTED_STATUS,
    )
    # At once: a normal exit would wait for the chunk still computing in XLA's threads.
    return _end_distributed(status) if args.command == "run" else status
  except Exception as e:  # noqa: BLE001 -- every failure ends in one line unless --traceback
    if args.traceback:
      raise
    if isinstance(e, _user_errors()):
      status = _fail(str(e), 2)
    elif isinstance(e, ImportError) and _missing_extra(e):
      status = _fail(_missing_extra(e), 2)
    elif distributed:
      status = _fail(_lost_process_line(e, args), 1)
    else:
      first = (str(e).strip().splitlines() or [""])[0][:300]
      hint = (
        "the run's last checkpoint stays usable: rerun the same command to resume; "
        if args.command == "run"
        else ""
      )
      status = _fail(f"{type(e).__name__}: {first} ({hint}--traceback shows the full trace)", 1)
    return _end_distributed(status) if distributed else status


HEARTBEAT_TIMEOUT_S = 60
SUPERVISED_ENV = (
  "NESTEROV_JAX_SUPERVISED"  # set in the process a multi-process run's supervisor starts
)


def _die_with_parent() -> None:
  """In the child, on Linux: SIGKILL when the supervisor dies, so no orphan holds the run."""
  try:
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
  except (OSError, AttributeError):  # not Linux: the child may outlive a killed supervisor
    pass


def _supervise(argv: list[str], args) -> int:
  """One process of a multi-process run, run as a child of this one, which holds no JAX.

  When a process goes silent past the heartbeat timeout, JAX's coordination service aborts
  every other process (SIGABRT, status 134) after its own C++ errors; the child's go to its
  workdir's log, and here the abort becomes one line and status 1. SIGTERM is passed on to
  the child; Ctrl-C reaches it from the terminal directly (its process group)."""
  import signal
  import subprocess

  from nesterov_jax.engine import provenance

  env = {**os.environ, SUPERVISED_ENV: "1", provenance.COMMAND_ENV: provenance._command_line()}
  child = subprocess.Popen(
    [sys.executable, "-m", "nesterov_jax", *argv], env=env, preexec_fn=_die_with_parent
  )
  signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  status = child.wait()
  if status in (-signal.SIGABRT, 128 + signal.SIGABRT):
    workdir = args.workdir or default_workdir(args.config)
    print(file=sys.stderr)  # the child's progress bar may have been cut mid-line
    return _fail(
      f"process {args.process_id} of {args.num_processes}: JAX's coordination service ended it, so "
      f"another process stopped answering for {args.heartbeat_timeout} s (--heartbeat-timeout); rerun every "
      f"process with the same command to resume from the last checkpoint (JAX's own log: "
      f"{workdir / RUNTIME_LOG})",
      1,
    )
  if status < 0:
    return _fail(
      f"process {args.process_id} was killed by {signal.Signals(-status).name}; rerun every process "
      "with the same command to resume from the last checkpoint",
      128 - status,
    )
  return status


RUNTIME_LOG = "jax_runtime.log"  # a multi-process run's JAX and XLA C++ logs, in its workdir


def _lost_process_line(e: Exception, args) -> str:
  """The one line for a multi-process run that failed: most often a process was lost."""
  first = (str(e).strip().splitlines() or [""])[0][:200]
  others = [i for i in range(args.num_processes or 0) if i != args.process_id]
  who = f"process {others[0]}" if len(others) == 1 else "another process"
  workdir = args.workdir or default_workdir(args.config)
  return (
    f"{type(e).__name__}: {first} -- {who} of {args.num_processes} was probably lost; rerun every process "
    f"with the same command to resume from the last checkpoint (JAX's own log: {workdir / RUNTIME_LOG})"
  )


def _end_distributed(status: int) -> int:
  """Ends the process now: a failed multi-process run (a normal exit would wait in JAX's
  shutdown barrier for the lost process, then abort with pages of C++ errors, status 134), or
  an interrupted run (it would wait for the computation in flight)."""
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(status)


def _native_output_to(path: pathlib.Path) -> None:
  """From here on, what C++ writes to the process's stdout and stderr (JAX's coordination
  service, XLA, gloo) goes to ``path``; Python's sys.stdout and sys.stderr (progress, the
  files written, the one-line errors) still reach the terminal."""
  path.parent.mkdir(parents=True, exist_ok=True)
  log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
  for fd, name in ((1, "stdout"), (2, "stderr")):
    getattr(sys, name).flush()
    terminal = os.dup(fd)
    os.dup2(log, fd)
    setattr(
      sys, name, os.fdopen(terminal, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    )
  os.close(log)


def _missing_extra(e: ImportError) -> str | None:
  """The line for a missing optional dependency: which extra to install."""
  top = (e.name or "").split(".")[0]
  if top not in EXTRAS:
    return None
  return (
    f"this needs {top}, from the [{EXTRAS[top]}] extra: pip install 'nesterov_jax[{EXTRAS[top]}]' "
    "(or, from a clone, pip install -e '.[paper]')"
  )


def _user_errors() -> tuple[type[BaseException], ...]:
  return (
    ConfigError,
    DataError,
    files.WorkdirInUse,
    files.CorruptFile,
    files.WriteFailed,
    FileNotFoundError,
  )


def _command(args, extra: list[str], parser) -> int:
  if args.command == "bench":
    from nesterov_jax.paper import bench

    bench.main(args.out, args.preset)
    return 0
  if args.command == "data":
    from nesterov_jax.paper import data_report

    data_report.main(
      args.generator, args.data_dir, args.out, args.logistic, args.num_train, args.num_test
    )
    return 0
  if args.command == "report":
    search_from_run(args.workdir)
    config_path = args.workdir / "config.json"
    experiment = _experiment(files.read_json(config_path)) if config_path.exists() else None
    # An experiment with its own comparison (hf_comparison) reports it; a sweep gets the engine's.
    (getattr(experiment, "write_report", None) or report.write_report)(args.workdir)
    if args.against is not None:
      files.write_text(
        args.workdir / report.HALVING_COMPARISON,
        report.halving_comparison_markdown(args.workdir, args.against, args.timing),
      )
      print(f"wrote {args.workdir / report.HALVING_COMPARISON}")
    return 0
  if args.command == "merge":
    from nesterov_jax.engine import results

    if len(args.workdirs) < 2:
      raise ConfigError("merge needs two or more run directories")
    try:
      results.merge_runs(args.workdirs, args.out)
    except ValueError as e:
      raise ConfigError(str(e)) from e
    report.write_report(args.out)
    return 0

  overrides = []
  for arg in extra:
    if not arg.startswith("--config."):
      parser.error(f"unrecognized argument {arg!r} (overrides look like --config.FIELD=VALUE)")
    overrides.append(arg.removeprefix("--config."))
  config = load_config(args.config, overrides)
  experiment = _experiment(config)
  if hasattr(experiment, "validate"):
    try:
      experiment.validate(config)
    except (KeyError, AttributeError) as e:  # a config written for another experiment
      missing = str(e).strip("'\"")
      raise ConfigError(
        f"experiment {config.experiment!r} needs config field {missing!r}, which this "
        "config lacks (is config.experiment right?)"
      ) from e
  workdir = args.workdir or default_workdir(args.config)
  if workdir.exists() and not workdir.is_dir():
    raise ConfigError(f"--workdir {workdir} is a file, not a folder")
  # One process per workdir (in a multi-process run, process 0 holds the lock for all).
  lock = None if args.process_id else files.lock_workdir(workdir)
  try:
    prepare_workdir(workdir, config)
    if not args.process_id:
      write_source(workdir, args.config)
    if args.coordinator:
      _native_output_to(workdir / RUNTIME_LOG)
      initialize_distributed(
        args.coordinator, args.num_processes, args.process_id, args.heartbeat_timeout
      )
    experiment.run(config, workdir)
  finally:
    if lock is not None:
      lock.close()
  return 0


CPU_DEVICES_ENV = "NESTEROV_JAX_CPU_DEVICES"


def use_cpu_cores_as_devices() -> None:
  """On the CPU backend, one JAX device per core (``$NESTEROV_JAX_CPU_DEVICES`` overrides).

  The engine shards a grid over devices, so each core then runs its own slice of the grid
  and the slices run concurrently. A single CPU device leaves a core idle through
  everything XLA runs on one thread (the elementwise ops, and the RNN's small per-step
  products): on 2 cores a 16-config tanh-RNN grid runs about 1.5× faster (see the
  benchmark). Grids smaller than the device count use fewer devices, so a single config
  is not padded. Must run before JAX starts its backends; an explicit
  ``--xla_force_host_platform_device_count`` in ``XLA_FLAGS`` wins. GPU and TPU runs are
  unaffected (their devices are not CPUs).
  """
  import os

  import jax

  if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
    return
  count = os.environ.get(CPU_DEVICES_ENV) or len(os.sched_getaffinity(0))
  try:
    jax.config.update("jax_num_cpu_devices", int(count))
  except RuntimeError:  # JAX already runs (``main`` called from Python): keep its devices
    pass


def initialize_distributed(
  coordinator: str,
  num_processes: int,
  process_id: int,
  heartbeat_timeout: int = HEARTBEAT_TIMEOUT_S,
) -> None:
  """JAX's multi-process runtime; a process silent for ``heartbeat_timeout`` seconds counts
  as lost.

  The CPU backend's cross-process collectives need gloo; the setting only affects CPU
  devices, so it is harmless on GPU and TPU hosts.
  """
  import jax

  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(
    coordinator,
    num_processes=num_processes,
    process_id=process_id,
    heartbeat_timeout_seconds=heartbeat_timeout,
  )
