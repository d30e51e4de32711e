"""``nesterov-jax bench``: the sweep engine against the obvious alternatives, side by side.

For each workload (the MNIST and Curves autoencoders, batch 200; the tanh RNN with 100
units, batch 100, at T = 80 on CPUs and T = 200 on GPUs) and each grid size, in one process:

- **engine**: our vmapped, jitted ``lax.scan`` train chunk (``programs.build``),
  sharded over the devices ``sweep.run`` would use (on a CPU, one device per core);
- **engine, 1 device** (on a CPU): the same program on one device, to choose the layout;
- **engine, autodiff BPTT** (the RNN): the engine with the recurrence differentiated by
  autodiff through ``lax.scan`` in the [B, H] layout, as it was before
  ``models.tanh_recurrence``;
- **naive vmap**: ``optax.inject_hyperparams(optax.sgd)(..., nesterov=True)`` vmapped over the
  grid inside a jitted ``lax.scan``, on one device: the first program a JAX user writes;
- **sequential**: one single-config engine program run once per grid point;
- **torch, sequential** (where PyTorch is importable): the eager PyTorch program for one
  config (``nn.RNN`` for the RNN; cuDNN on a GPU), timed once, times the grid size;

and, for Hessian-free, the cost of one Gauss-Newton product G·v relative to one gradient.

Every method of a cell is compiled first, then timed in ``windows`` interleaved windows:
each window runs every method in turn, for ``repeats`` chunks each, in an order that
rotates from window to window, so that a slow minute of a shared machine falls on every
method alike. Each row gives the median over windows and their spread (min–max), and the
engine's speed-up over the method as the median of the per-window ratios with its range:
a ratio whose range straddles 1 is not a finding. It prints µs per config-update,
achieved TFLOP/s (model FLOPs: 6 per weight per case for the autoencoders; the
recurrence's matmuls for the RNN) and the fraction of the device's matmul ceiling,
measured in the same run. Only ratios measured side by side mean anything on shared
machines.
"""

from __future__ import annotations

import pathlib
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from nesterov_jax.paper import autoencoders, protocols, rnn
from nesterov_jax.engine import files, programs, provenance
from nesterov_jax.hf import gauss_newton_operator
from nesterov_jax.engine.tasks import Task


def autoencoder_weights(name: str) -> int:
  encoder, size, _ = autoencoders.ARCHITECTURES[name]
  sizes = (size, *encoder, *reversed(encoder[:-1]), size)
  return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def matmul_ceiling(precision: str, size: int) -> float:
  """TFLOP/s of a size³ float32 matmul at ``precision``: the device's ceiling for this run."""
  a = jax.random.normal(jax.random.key(0), (size, size))
  f = jax.jit(lambda x: x @ x)
  with jax.default_matmul_precision(precision):
    f(a).block_until_ready()
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
      out = f(a)
      reps += 1
    out.block_until_ready()
  return 2 * size**3 * reps / (time.perf_counter() - start) / 1e12


def workloads(
  rnn_length: int, rnn_unroll: int = 8
) -> dict[str, tuple[Task, ml_collections.ConfigDict, float]]:
  """(task, sweep config, model FLOPs per config-update) for each workload."""
  out = {}
  for name in ("mnist_ae", "curves_ae"):
    ae = protocols.autoencoder(name)
    ae.task.num_test = 1000  # the data's size changes no update's cost
    if name == "curves_ae":
      ae.task.num_train = 2000
    out[name] = (
      autoencoders.autoencoder_task(ae.task),
      ae,
      6.0 * autoencoder_weights(name) * ae.task.batch_size,
    )
  rnn_config = protocols.rnn("addition", rnn_length)
  rnn_config.task.num_eval_sequences = 100
  rnn_config.task.unroll = rnn_unroll
  h, inputs = rnn_config.task.hidden_size, 2
  rnn_flops = 6 * (h * h + inputs * h) * rnn_config.task.batch_size * rnn_length
  out[f"rnn_T{rnn_length}"] = (rnn.rnn_engine_task(rnn_config.task), rnn_config, float(rnn_flops))
  return out


def _grid(num_configs: int) -> dict[str, np.ndarray]:
  """The benchmark's grid, as ``grid.build`` lists points: NAG at random ε and μ_max."""
  rng = np.random.default_rng(0)
  learning_rate = rng.choice([1e-3, 5e-4, 1e-4], num_configs).astype(np.float32)
  return {
    "optimizer": np.array(["nag"] * num_configs),
    "mu_max": rng.choice([0.9, 0.99, 0.999], num_configs).astype(np.float32),
    "learning_rate": learning_rate,
    "seed": np.arange(num_configs, dtype=np.int32),
  }


def engine_runner(task, config, num_configs, chunk, devices: int | None = None):
  """The engine as ``sweep.run`` runs it (``programs.build``): the grid sharded over the
  devices it would use, or over the first ``devices`` of them."""
  config = ml_collections.ConfigDict(config.to_dict())
  config.chunk_size = chunk
  mesh = None if devices is None else programs.grid_mesh(devices)
  engine = programs.build(task, config, _grid(num_configs), mesh)
  data = jax.device_put(task.data, engine.replicated)
  chunk_fn = engine.chunk_at(0)
  state = engine.init(engine.hps)

  def run(start):
    nonlocal state
    state, logs = chunk_fn(state, engine.hps, data, jnp.int32(start))
    jax.block_until_ready(logs)

  return run


def one_device_runner(task, config, num_configs, chunk):
  return engine_runner(task, config, num_configs, chunk, devices=1)


def autodiff_rnn_runner(task, config, num_configs, chunk):
  """The engine on the RNN as first written: autodiff through the scan in the [B, H] layout
  (the "before" of ``models.tanh_recurrence``)."""
  return engine_runner(
    rnn.rnn_engine_task(config.task, gradient="autodiff"), config, num_configs, chunk
  )


def naive_runner(task, config, num_configs, chunk):
  hp = {k: jnp.asarray(v) for k, v in _grid(num_configs).items() if k != "optimizer"}
  opt = optax.inject_hyperparams(optax.sgd)(learning_rate=0.0, momentum=0.0, nesterov=True)

  def init_point(lr, mu, seed):
    params = task.init(jax.random.key(seed), {})
    state = opt.init(params)
    state.hyperparams["learning_rate"] = lr
    state.hyperparams["momentum"] = mu
    return params, state

  @jax.jit
  def chunk_fn(carry, data, start):
    def step(carry, t):
      def one(params, state, seed):
        batch = task.sample(data, jax.random.fold_in(jax.random.key(seed), t))
        loss, grads = jax.value_and_grad(task.loss)(params, batch)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

      params, state, loss = jax.vmap(one)(*carry, hp["seed"])
      return (params, state), loss

    carry, losses = jax.lax.scan(step, carry, start + jnp.arange(chunk))
    return carry, losses.mean(0)

  carry = jax.jit(jax.vmap(init_point))(hp["learning_rate"], hp["mu_max"], hp["seed"])

  def run(start):
    nonlocal carry
    carry, loss = chunk_fn(carry, task.data, jnp.int32(start))
    loss.block_until_ready()

  return run


def sequential_runner(task, config, num_configs, chunk):
  single = engine_runner(task, config, 1, chunk)

  def run(start):
    for _ in range(num_configs):
      single(start)

  return run


RUNNERS = {
  "engine": engine_runner,
  "engine, 1 device": one_device_runner,
  "naive vmap": naive_runner,
  "sequential": sequential_runner,
}


def torch_runner(workload: str, config: ml_collections.ConfigDict, chunk: int):
  """``run(start)``: one chunk of the plain PyTorch program a user would write for one config
  of ``workload`` (SGD with Nesterov momentum, eager; the RNN as ``nn.RNN``, cuDNN on a GPU),
  on the device JAX uses; None where torch (or, beside a GPU, its CUDA build) is missing.
  A grid of N configs run one after another costs N times one config's chunk."""
  try:
    import torch
  except ImportError:
    return None
  on_gpu = jax.devices()[0].platform == "gpu"
  if on_gpu and not torch.cuda.is_available():
    return None
  device = torch.device("cuda" if on_gpu else "cpu")
  if workload.endswith("_ae"):
    encoder, size, _ = autoencoders.ARCHITECTURES[workload]
    sizes = (size, *encoder, *reversed(encoder[:-1]), size)
    code = len(encoder) - 1
    layers = [torch.nn.Linear(a, b).to(device) for a, b in zip(sizes[:-1], sizes[1:])]
    params = [p for layer in layers for p in layer.parameters()]
    x = torch.rand(config.task.batch_size, sizes[0], device=device)

    def loss_fn():
      h = x
      for i, layer in enumerate(layers):
        h = layer(h)
        h = h if i in (code, len(layers) - 1) else torch.sigmoid(h)  # linear code and output layers
      return (
        torch.nn.functional.binary_cross_entropy_with_logits(h, x, reduction="sum") / x.shape[0]
      )
  else:
    length, batch, hidden = config.task.length, config.task.batch_size, config.task.hidden_size
    rnn_layer = torch.nn.RNN(2, hidden, nonlinearity="tanh").to(device)
    readout = torch.nn.Linear(hidden, 1).to(device)
    params = list(rnn_layer.parameters()) + list(readout.parameters())
    x = torch.rand(length, batch, 2, device=device)
    y = torch.rand(batch, 1, device=device)

    def loss_fn():
      hidden_states, _ = rnn_layer(x)
      return 0.5 * ((readout(hidden_states[-1]) - y) ** 2).sum()

  opt = torch.optim.SGD(params, lr=1e-5, momentum=0.99, nesterov=True)

  def update():
    opt.zero_grad(set_to_none=True)
    loss_fn().backward()
    opt.step()

  sync = torch.cuda.synchronize if on_gpu else (lambda: None)

  def run(start):
    for _ in range(chunk):
      update()
    sync()

  return run


def gauss_newton_cost(task: Task, products: int = 10, repeats: int = 3) -> dict:
  """One G·v product against one gradient, on one minibatch of ``task``, in µs.

  ``gv_us`` is the marginal cost of a product on the linearized network (what each CG
  iteration pays); ``gv_first_us`` includes the linearization's forward pass (paid once
  per HF update). HF's goal: G·v ≤ 2 gradients.
  """
  params = task.init(jax.random.key(0), {})
  batch = task.sample(task.data, jax.random.key(1))
  grad_fn = jax.jit(jax.grad(task.loss))

  @jax.jit
  def chain(params, v, n):
    product = gauss_newton_operator(task.apply, task.output_loss, params, *batch)
    step = lambda _, v: jax.tree.map(lambda x: x / (1.0 + optax.tree.norm(v)), product(v))
    return jax.lax.fori_loop(0, n, step, v)

  def seconds(f):  # the fastest of ``repeats`` calls: the least disturbed by other load
    jax.block_until_ready(f())
    times = []
    for _ in range(repeats):
      start = time.perf_counter()
      jax.block_until_ready(f())
      times.append(time.perf_counter() - start)
    return min(times)

  grad = seconds(lambda: grad_fn(params, batch))
  one = seconds(lambda: chain(params, params, 1))
  many = seconds(lambda: chain(params, params, 1 + products))
  gv = (many - one) / products
  return {
    "gradient_us": grad * 1e6,
    "gv_us": gv * 1e6,
    "gv_first_us": one * 1e6,
    "gv_over_gradient": gv / grad,
    "gv_first_over_gradient": one / grad,
  }


def interleaved_seconds(
  runners: dict, chunk: int, repeats: int, windows: int
) -> dict[str, list[float]]:
  """Seconds per update of each runner's whole grid, one value per window.

  Every runner first runs one chunk (which compiles it). Then each of ``windows`` windows
  runs every runner for ``repeats`` chunks, one runner after another, the order rotating by
  one each window: a disturbance of a shared machine lasting a window or less slows every
  method in turn rather than one of them.
  """
  names = list(runners)
  for name in names:
    runners[name](0)
  seconds = {name: [] for name in names}
  for w in range(windows):
    for name in names[w % len(names) :] + names[: w % len(names)]:
      begin = time.perf_counter()
      for r in range(repeats):
        runners[name]((w * repeats + r + 1) * chunk)
      seconds[name].append((time.perf_counter() - begin) / (repeats * chunk))
  return seconds


def halving_overhead(task, config, num_configs: int, keep: int, chunk: int, windows: int) -> dict:
  """What a rung of successive halving costs (``train._halve``): gathering ``keep`` of
  ``num_configs`` points' states into a smaller grid, and compiling that grid's chunk, each
  against the time of one chunk. Times: medians over ``windows`` (the gather, and a chunk of
  each size, repeated); the compile: the smaller chunk's first call less its median."""
  from nesterov_jax.engine import train

  config = ml_collections.ConfigDict(config.to_dict())
  config.chunk_size = chunk
  points = _grid(num_configs)
  big = programs.build(task, config, points)
  data = jax.device_put(task.data, big.replicated)
  state = big.init(big.hps)

  def timed(f):
    begin = time.perf_counter()
    out = f()
    jax.block_until_ready(out)
    return out, time.perf_counter() - begin

  step = [0]

  def chunk_of(compiled):
    def call():
      nonlocal state
      step[0] += chunk
      return compiled.chunk_at(0)(state, compiled.hps, data, jnp.int32(step[0]))

    return call

  (state, _), _ = timed(chunk_of(big))  # compiles
  rows = np.linspace(0, num_configs - 1, keep).round().astype(int)
  small = programs.build(task, config, {k: v[rows] for k, v in points.items()})
  full_s, gather_s = [], []
  for _ in range(windows):
    (state, _), seconds = timed(chunk_of(big))
    full_s.append(seconds)
    _, seconds = timed(lambda: train._regather(state, big, np.arange(num_configs), small, rows))
    gather_s.append(seconds)
  state = train._regather(state, big, np.arange(num_configs), small, rows)
  (state, _), first = timed(chunk_of(small))
  small_s = []
  for _ in range(windows):
    (state, _), seconds = timed(chunk_of(small))
    small_s.append(seconds)
  full, small_t, gather = (float(np.median(x)) for x in (full_s, small_s, gather_s))
  compile_s = max(first - small_t, 0.0)
  return {
    "configs": num_configs,
    "kept": keep,
    "chunk": chunk,
    "chunk_s_full": full,
    "chunk_s_kept": small_t,
    "gather_s": gather,
    "gather_s_min": float(min(gather_s)),
    "gather_s_max": float(max(gather_s)),
    "compile_s": compile_s,
    "gather_in_chunks": gather / small_t,
    "compile_in_chunks": compile_s / small_t,
    "kept_over_full": small_t / full,
  }


def run_bench(
  grid_sizes: dict[str, list[int]],
  precisions: list[str],
  chunk: int,
  repeats: int,
  rnn_length: int,
  matmul_size: int,
  methods: list[str] | None = None,
  rnn_unrolls: tuple[int, ...] = (8,),
  windows: int = 5,
  workload_names: tuple[str, ...] | None = None,
  halving: tuple[tuple[str, int, int], ...] = (),
) -> dict:
  """Measures every (workload, precision, grid size, method); returns the rows and ceilings.

  ``grid_sizes`` maps a workload (or its kind, "rnn") to its grid sizes. The RNN's engine
  runs once per ``rnn_unrolls`` value (the scan's unroll factor). The one-device engine runs
  only where there is more than one device; PyTorch where it is importable. ``halving``:
  (workload or "rnn", grid size, points kept) of which to measure a rung's overhead
  (:func:`halving_overhead`), at the first precision.
  """
  start = time.perf_counter()
  ceilings = {p: matmul_ceiling(p, matmul_size) for p in precisions}
  methods = [
    m for m in (methods or list(RUNNERS)) if m != "engine, 1 device" or len(jax.devices()) > 1
  ]
  rows, gauss_newton = [], []
  for name, (task, config, flops) in workloads(rnn_length, rnn_unrolls[0]).items():
    is_rnn = name.startswith("rnn")
    sizes = grid_sizes.get("rnn" if is_rnn else name, [])
    if (workload_names and name not in workload_names) or not sizes:
      continue
    for precision in precisions:
      with jax.default_matmul_precision(precision):
        if name == "mnist_ae":
          gauss_newton.append({"workload": name, "precision": precision, **gauss_newton_cost(task)})
          print(
            f"{name:>9} {precision:>8} one G·v: {gauss_newton[-1]['gv_over_gradient']:.2f} gradients "
            f"(first of an update, with the linearization: {gauss_newton[-1]['gv_first_over_gradient']:.2f})",
            flush=True,
          )
        for num_configs in sizes:
          runners = {}
          for method in methods:
            label = (
              f"engine, unroll {rnn_unrolls[0]}"
              if is_rnn and method == "engine" and len(rnn_unrolls) > 1
              else method
            )
            runners[label] = RUNNERS[method](task, config, num_configs, chunk)
          if is_rnn and "engine" in methods:
            runners["engine, autodiff BPTT"] = autodiff_rnn_runner(task, config, num_configs, chunk)
          for unroll in rnn_unrolls[1:] if is_rnn else ():
            other, other_config, _ = workloads(rnn_length, unroll)[name]
            runners[f"engine, unroll {unroll}"] = engine_runner(
              other, other_config, num_configs, chunk
            )
          one_torch = torch_runner(name, config, chunk)
          if one_torch is not None:  # one PyTorch config, its time × the grid size
            runners["torch, sequential"] = one_torch
          seconds = interleaved_seconds(runners, chunk, repeats, windows)
          if "torch, sequential" in seconds:
            seconds["torch, sequential"] = [num_configs * t for t in seconds["torch, sequential"]]
          cell = cell_rows(name, precision, num_configs, seconds, flops, ceilings[precision])
          for row in cell:
            print(_row_line(row), flush=True)
          rows += cell
  rungs = []
  for name, (task, config, _) in workloads(rnn_length, rnn_unrolls[0]).items():
    for wanted, num_configs, keep in halving:
      if wanted in (name, "rnn" if name.startswith("rnn") else name):
        with jax.default_matmul_precision(precisions[0]):
          rungs.append(
            {
              "workload": name,
              "precision": precisions[0],
              **halving_overhead(task, config, num_configs, keep, chunk, windows),
            }
          )
        r = rungs[-1]
        print(
          f"{name:>9} halving {num_configs} → {keep}: gather {r['gather_s'] * 1e3:.1f} ms "
          f"({r['gather_in_chunks']:.2f} chunks), compile {r['compile_s']:.2f} s "
          f"({r['compile_in_chunks']:.1f} chunks of {chunk} updates)",
          flush=True,
        )
  return {
    "rows": rows,
    "gauss_newton": gauss_newton,
    "halving": rungs,
    "matmul_ceiling_tflops": ceilings,
    "matmul_size": matmul_size,
    "windows": windows,
    "repeats": repeats,
    "chunk": chunk,
    "provenance": provenance.record(time.perf_counter() - start),
  }


def cell_rows(
  workload: str,
  precision: str,
  num_configs: int,
  seconds: dict[str, list[float]],
  flops: float,
  ceiling: float,
) -> list[dict]:
  """One cell's rows: per method the median and range over windows of µs per config-update,
  and the engine's speed-up over it (each window's ratio of the other's time to the
  engine's: its median and range). The first method whose name starts with "engine" is the
  reference."""
  reference = next(m for m in seconds if m.startswith("engine"))
  rows = []
  for method, per_window in seconds.items():
    per_config = np.array(per_window) / num_configs
    median = float(np.median(per_config))
    ratios = np.array(per_window) / np.array(seconds[reference])
    tflops = flops / median / 1e12
    rows.append(
      {
        "workload": workload,
        "precision": precision,
        "configs": num_configs,
        "method": method,
        "us_per_config_update": median * 1e6,
        "us_min": float(per_config.min()) * 1e6,
        "us_max": float(per_config.max()) * 1e6,
        "config_updates_per_s": 1 / median,
        "tflops": tflops,
        "fraction_of_ceiling": tflops / ceiling,
        "engine_speedup": None if method == reference else float(np.median(ratios)),
        "engine_speedup_min": None if method == reference else float(ratios.min()),
        "engine_speedup_max": None if method == reference else float(ratios.max()),
      }
    )
  return rows


def _speedup(r: dict) -> str:
  if r["engine_speedup"] is None:
    return ""
  return f"{r['engine_speedup']:.2f}× ({r['engine_speedup_min']:.2f}–{r['engine_speedup_max']:.2f})"


def _row_line(r: dict) -> str:
  return (
    f"{r['workload']:>9} {r['precision']:>8} {r['configs']:>4} cfg {r['method']:>17}: "
    f"{r['us_per_config_update']:10.1f} µs/config-update ({r['us_min']:.0f}–{r['us_max']:.0f})  "
    f"{r['tflops']:7.3f} TFLOP/s  {100 * r['fraction_of_ceiling']:5.1f}% of ceiling  {_speedup(r)}"
  )


def markdown(result: dict) -> str:
  rows = result["rows"]
  lines = [
    "# Benchmark: engine vs naive optax vmap vs a sequential loop",
    "",
    provenance.markdown(result["provenance"]),
    "Matmul ceiling measured in the same run ("
    + ", ".join(f"`{p}`: {v:.3g} TFLOP/s" for p, v in result["matmul_ceiling_tflops"].items())
    + f", {result['matmul_size']}³ float32). Each cell's methods were compiled, then timed in "
    f"{result['windows']} interleaved windows of {result['repeats']} chunks of {result['chunk']} updates "
    "(each window runs every method in turn, the order rotating): µs per config-update is the "
    "median over windows, with their range; the engine's speed-up is the median of the "
    "per-window ratios (the other method's time ÷ the engine's), with their range. "
    "`torch, sequential` is one PyTorch config's time × the grid size.",
    "",
    "| workload | precision | configs | method | µs / config-update (range) | config-updates/s | TFLOP/s "
    "| % of ceiling | engine speed-up (range) |",
    "|---|---|---|---|---|---|---|---|---|",
  ]
  if not rows:  # a preset of halving rows alone
    lines = lines[:2] + [provenance.markdown(result["provenance"])]
  for r in rows:
    lines.append(
      f"| {r['workload']} | {r['precision']} | {r['configs']} | {r['method']} | "
      f"{r['us_per_config_update']:.1f} ({r['us_min']:.0f}–{r['us_max']:.0f}) | "
      f"{r['config_updates_per_s']:.1f} | {r['tflops']:.3g} | "
      f"{100 * r['fraction_of_ceiling']:.1f} | {_speedup(r)} |"
    )
  lines += (
    []
    if not result.get("gauss_newton")
    else [
      "",
      "## Hessian-free: one Gauss-Newton product G·v against one gradient",
      "",
      "On one minibatch of the workload. A CG iteration pays one G·v on the linearized network; "
      "the first of an update also pays the linearization's forward pass. Goal: G·v ≤ 2 gradients.",
      "",
      "| workload | precision | gradient µs | G·v µs | G·v / gradient | first G·v (with linearization) / gradient |",
      "|---|---|---|---|---|---|",
    ]
  )
  for r in result.get("gauss_newton", []):
    lines.append(
      f"| {r['workload']} | {r['precision']} | {r['gradient_us']:.0f} | {r['gv_us']:.0f} | "
      f"{r['gv_over_gradient']:.2f} | {r['gv_first_over_gradient']:.2f} |"
    )
  if result.get("halving"):
    lines += [
      "",
      "## Successive halving: what a rung costs",
      "",
      "At a rung the survivors' states are gathered into a smaller grid (`train._regather`: every "
      "array to the host and back, resharded), whose chunk program compiles once. Each cost against "
      "one chunk of the smaller grid; medians over the windows (the gather's range in brackets).",
      "",
      "| workload | precision | configs → kept | chunk (updates) | chunk s, full | chunk s, kept | "
      "gather ms (range) | gather / chunk | compile s | compile / chunk |",
      "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["halving"]:
      lines.append(
        f"| {r['workload']} | {r['precision']} | {r['configs']} → {r['kept']} | {r['chunk']} | "
        f"{r['chunk_s_full']:.3g} | {r['chunk_s_kept']:.3g} | {r['gather_s'] * 1e3:.1f} "
        f"({r['gather_s_min'] * 1e3:.1f}–{r['gather_s_max'] * 1e3:.1f}) | {r['gather_in_chunks']:.2f} | "
        f"{r['compile_s']:.2f} | {r['compile_in_chunks']:.1f} |"
      )
  return "\n".join(lines) + "\n"


# What each preset measures: grid sizes per workload (or "rnn"), and run_bench's other arguments.
PRESETS = {
  # seconds, for the tests: every method, both workload kinds, a rung, the G·v row
  "quick": (
    {"mnist_ae": [2], "rnn": [2]},
    dict(
      chunk=2,
      repeats=1,
      windows=2,
      rnn_length=20,
      matmul_size=256,
      precisions=["highest"],
      halving=(("rnn", 2, 1),),
    ),
  ),
  # the GPU script's dry run on a CPU (tests/test_gpu_check.py): its plumbing, one RNN cell of
  # the engine against the naive vmap; "quick" is the test of every method
  "smoke": (
    {"rnn": [2]},
    dict(
      chunk=2,
      repeats=1,
      windows=2,
      rnn_length=20,
      matmul_size=256,
      precisions=["highest"],
      methods=["engine", "naive vmap"],
    ),
  ),
  # a CPU: the grid sizes the committed CPU runs use (RNN 7-22 points, autoencoders 5-30);
  # one precision, as the CPU computes fp32 at either
  "cpu": (
    {"mnist_ae": [1, 4, 30], "curves_ae": [4, 30], "rnn": [1, 16]},
    dict(
      chunk=10,
      repeats=2,
      windows=5,
      rnn_length=80,
      matmul_size=1024,
      precisions=["highest"],
      halving=(("rnn", 16, 8), ("curves_ae", 30, 10)),
    ),
  ),
  # a rung's gather and compile at the shapes of the committed halving pilots (configs/*.py:pilot_halving):
  # the RNN's 35 points to 14 at its first rung, Curves' 30 to 15
  "halving": (
    {},
    dict(
      chunk=10,
      repeats=2,
      windows=5,
      rnn_length=80,
      matmul_size=1024,
      precisions=["highest"],
      halving=(("rnn", 35, 14), ("curves_ae", 30, 15)),
    ),
  ),
  # a GPU, everything
  "gpu": (
    {"mnist_ae": [1, 54, 128], "curves_ae": [54], "rnn": [1, 32, 256]},
    dict(
      chunk=50,
      repeats=3,
      windows=5,
      rnn_length=200,
      matmul_size=8192,
      rnn_unrolls=(8, 1, 32),
      precisions=["default", "highest"],
    ),
  ),
  # a GPU machine's time-boxed check (scripts/gpu_check.sh): minutes
  "gpu_check": (
    {"mnist_ae": [1, 4, 54], "rnn": [16, 64, 256]},
    dict(
      chunk=20,
      repeats=2,
      windows=3,
      rnn_length=200,
      matmul_size=8192,
      methods=["engine", "naive vmap"],
      precisions=["default", "highest"],
    ),
  ),
}


def main(out: pathlib.Path | None, preset: str | None = None) -> None:
  """Runs ``preset`` (default: ``gpu`` on an accelerator, else ``cpu``) and writes bench.json
  and bench.md into ``out``."""
  preset = preset or ("cpu" if jax.devices()[0].platform == "cpu" else "gpu")
  sizes, kwargs = PRESETS[preset]
  result = run_bench(sizes, **kwargs)
  result["preset"] = preset
  if out is not None:
    out.mkdir(parents=True, exist_ok=True)
    files.write_json(out / "bench.json", result)
    files.write_text(out / "bench.md", markdown(result))
    print(f"wrote {out}/bench.json, bench.md")
