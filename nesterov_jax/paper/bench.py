"""``nesterov-jax bench``: the sweep engine against the obvious alternatives, side by side.

For each workload (the MNIST autoencoder 784-1000-500-250-30 mirrored, batch 200; the
tanh RNN with 100 units, batch 100, at T = 80 on CPUs and T = 200 on GPUs) and each grid
size, in one process:

- **engine**: our vmapped, jitted ``lax.scan`` train chunk (``programs.build``),
  sharded over the devices ``sweep.run`` would use (on a CPU, one device per core);
- **naive vmap**: ``optax.inject_hyperparams(optax.sgd)(..., nesterov=True)`` vmapped over the
  grid inside a jitted ``lax.scan``, on one device: the first program a JAX user writes;
- **sequential**: one single-config engine program run once per grid point;
- **torch, sequential** (where PyTorch is importable): the eager PyTorch program for one
  config (``nn.RNN`` for the RNN; cuDNN on a GPU), timed once, times the grid size;

and, for Hessian-free, the cost of one Gauss-Newton product G·v relative to one gradient.

It prints config-updates/s, µs per config-update, achieved TFLOP/s (model FLOPs: 6 per
weight per case for the autoencoder; the recurrence's matmuls for the RNN) and the fraction
of the device's matmul ceiling, measured in the same run. Only ratios measured side by side
mean anything on shared machines.
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

MNIST_WEIGHTS = sum(a * b for a, b in zip((784, 1000, 500, 250, 30, 250, 500, 1000),
                                          (1000, 500, 250, 30, 250, 500, 1000, 784)))


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


def workloads(rnn_length: int, rnn_unroll: int = 8) -> dict[str, tuple[Task, ml_collections.ConfigDict, float]]:
  """(task, sweep config, model FLOPs per config-update) for each workload."""
  ae = protocols.autoencoder("mnist_ae")
  ae.task.num_test = 1000
  rnn_config = protocols.rnn("addition", rnn_length)
  rnn_config.task.num_eval_sequences = 100
  rnn_config.task.unroll = rnn_unroll
  h, inputs = rnn_config.task.hidden_size, 2
  rnn_flops = 6 * (h * h + inputs * h) * rnn_config.task.batch_size * rnn_length
  return {"mnist_ae": (autoencoders.autoencoder_task(ae.task), ae, 6.0 * MNIST_WEIGHTS * 200),
          f"rnn_T{rnn_length}": (rnn.rnn_engine_task(rnn_config.task), rnn_config, float(rnn_flops))}


def _grid(num_configs: int) -> dict[str, np.ndarray]:
  """The benchmark's grid, as ``grid.build`` lists points: NAG at random ε and μ_max."""
  rng = np.random.default_rng(0)
  learning_rate = rng.choice([1e-3, 5e-4, 1e-4], num_configs).astype(np.float32)
  return {"optimizer": np.array(["nag"] * num_configs),
          "mu_max": rng.choice([0.9, 0.99, 0.999], num_configs).astype(np.float32),
          "learning_rate": learning_rate,
          "seed": np.arange(num_configs, dtype=np.int32)}


def engine_runner(task, config, num_configs, chunk):
  """The engine as ``sweep.run`` runs it (``programs.build``): the grid sharded over the
  devices it would use."""
  config = ml_collections.ConfigDict(config.to_dict())
  config.chunk_size = chunk
  engine = programs.build(task, config, _grid(num_configs))
  data = jax.device_put(task.data, engine.replicated)
  chunk_fn = engine.chunk_at(0)
  state = engine.init(engine.hps)

  def run(start):
    nonlocal state
    state, logs = chunk_fn(state, engine.hps, data, jnp.int32(start))
    return logs[0]["train_loss"]

  return run


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
    return loss

  return run


def sequential_runner(task, config, num_configs, chunk):
  single = engine_runner(task, config, 1, chunk)

  def run(start):
    loss = None
    for _ in range(num_configs):
      loss = single(start)
      loss.block_until_ready()
    return loss

  return run


RUNNERS = {"engine": engine_runner, "naive vmap": naive_runner, "sequential": sequential_runner}


def torch_seconds(workload: str, config: ml_collections.ConfigDict, chunk: int, repeats: int) -> float | None:
  """Seconds per update of the plain PyTorch program a user would write for one config of
  ``workload`` (SGD with Nesterov momentum, eager; the RNN as ``nn.RNN``, cuDNN on a GPU),
  on the device JAX uses, or None where torch (or, beside a GPU, its CUDA build) is missing.
  A grid of N configs run one after another costs N times this."""
  try:
    import torch
  except ImportError:
    return None
  on_gpu = jax.devices()[0].platform == "gpu"
  if on_gpu and not torch.cuda.is_available():
    return None
  device = torch.device("cuda" if on_gpu else "cpu")
  if workload == "mnist_ae":
    sizes = (784, 1000, 500, 250, 30, 250, 500, 1000, 784)
    layers = [torch.nn.Linear(a, b).to(device) for a, b in zip(sizes[:-1], sizes[1:])]
    params = [p for layer in layers for p in layer.parameters()]
    x = torch.rand(config.task.batch_size, sizes[0], device=device)

    def loss_fn():
      h = x
      for i, layer in enumerate(layers):
        h = layer(h)
        h = h if i in (3, len(layers) - 1) else torch.sigmoid(h)  # linear code and output layers
      return torch.nn.functional.binary_cross_entropy_with_logits(h, x, reduction="sum") / x.shape[0]
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
  for _ in range(chunk):
    update()
  sync()
  start = time.perf_counter()
  for _ in range(repeats * chunk):
    update()
  sync()
  return (time.perf_counter() - start) / (repeats * chunk)


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
  return {"gradient_us": grad * 1e6, "gv_us": gv * 1e6, "gv_first_us": one * 1e6,
          "gv_over_gradient": gv / grad, "gv_first_over_gradient": one / grad}


def measure(runner, repeats: int, chunk: int) -> float:
  """Seconds per update of the whole grid (after one warm-up chunk that compiles)."""
  runner(0).block_until_ready()
  start = time.perf_counter()
  for r in range(repeats):
    loss = runner((r + 1) * chunk)
  loss.block_until_ready()
  return (time.perf_counter() - start) / (repeats * chunk)


def run_bench(grid_sizes: dict[str, list[int]], precisions: list[str], chunk: int, repeats: int,
              rnn_length: int, matmul_size: int, methods: list[str] | None = None,
              rnn_unrolls: tuple[int, ...] = (8,)) -> dict:
  """Measures every (workload, precision, grid size, method); returns the rows and ceilings.

  The RNN's engine runs once per ``rnn_unrolls`` value (the scan's unroll factor); where
  PyTorch and a CUDA device are present, its cuDNN RNN runs beside the single config.
  """
  start = time.perf_counter()
  ceilings = {p: matmul_ceiling(p, matmul_size) for p in precisions}
  rows, gauss_newton, torch_times = [], [], {}

  def record(name, precision, num_configs, method, seconds, flops):
    per_config = seconds / num_configs
    tflops = flops / per_config / 1e12
    rows.append({"workload": name, "precision": precision, "configs": num_configs, "method": method,
                 "us_per_config_update": per_config * 1e6, "config_updates_per_s": 1 / per_config,
                 "tflops": tflops, "fraction_of_ceiling": tflops / ceilings[precision]})
    print(_row_line(rows[-1]), flush=True)

  for name, (task, config, flops) in workloads(rnn_length, rnn_unrolls[0]).items():
    is_rnn = name != "mnist_ae"
    for precision in precisions:
      if not is_rnn:
        with jax.default_matmul_precision(precision):
          gauss_newton.append({"workload": name, "precision": precision, **gauss_newton_cost(task)})
        print(f"{name:>9} {precision:>8} one G·v: {gauss_newton[-1]['gv_over_gradient']:.2f} gradients "
              f"(first of an update, with the linearization: {gauss_newton[-1]['gv_first_over_gradient']:.2f})",
              flush=True)
      for num_configs in grid_sizes["rnn" if is_rnn else "mnist"]:
        for method in methods or list(RUNNERS):
          with jax.default_matmul_precision(precision):
            seconds = measure(RUNNERS[method](task, config, num_configs, chunk), repeats, chunk)
          label = f"engine, unroll {rnn_unrolls[0]}" if is_rnn and method == "engine" and len(rnn_unrolls) > 1 \
              else method
          record(name, precision, num_configs, label, seconds, flops)
        for unroll in rnn_unrolls[1:] if is_rnn else ():
          other, other_config, _ = workloads(rnn_length, unroll)[name]
          with jax.default_matmul_precision(precision):
            seconds = measure(engine_runner(other, other_config, num_configs, chunk), repeats, chunk)
          record(name, precision, num_configs, f"engine, unroll {unroll}", seconds, flops)
        if (name, precision) not in torch_times:  # one PyTorch config, timed once per cell
          torch_times[name, precision] = torch_seconds(name, config, chunk, repeats)
        if torch_times[name, precision] is not None:
          record(name, precision, num_configs, "torch, sequential", num_configs * torch_times[name, precision], flops)
  return {"rows": rows, "gauss_newton": gauss_newton, "matmul_ceiling_tflops": ceilings,
          "matmul_size": matmul_size,
          "provenance": provenance.record(time.perf_counter() - start)}


def _row_line(r: dict) -> str:
  return (f"{r['workload']:>9} {r['precision']:>8} {r['configs']:>4} cfg {r['method']:>17}: "
          f"{r['us_per_config_update']:10.1f} µs/config-update  {r['config_updates_per_s']:10.1f} /s  "
          f"{r['tflops']:7.3f} TFLOP/s  {100 * r['fraction_of_ceiling']:5.1f}% of ceiling")


def markdown(result: dict) -> str:
  rows = result["rows"]
  lines = ["# Benchmark: engine vs naive optax vmap vs a sequential loop", "",
           provenance.markdown(result["provenance"]),
           "Matmul ceiling measured in the same run ("
           + ", ".join(f"`{p}`: {v:.3g} TFLOP/s" for p, v in result["matmul_ceiling_tflops"].items())
           + f", {result['matmul_size']}³ float32). Ratios are speed-ups of the engine "
             "(µs per config-update of the other method ÷ the engine's).", "",
           "| workload | precision | configs | method | µs / config-update | config-updates/s | TFLOP/s "
           "| % of ceiling | engine speed-up |", "|---|---|---|---|---|---|---|---|---|"]
  engine = {}
  for r in rows:  # the first engine row of each cell is the reference
    if r["method"].startswith("engine"):
      engine.setdefault((r["workload"], r["precision"], r["configs"]), (r["method"], r["us_per_config_update"]))
  for r in rows:
    ref_method, ref = engine.get((r["workload"], r["precision"], r["configs"]), (None, None))
    ratio = f"{r['us_per_config_update'] / ref:.2f}×" if ref and r["method"] != ref_method else ""
    lines.append(f"| {r['workload']} | {r['precision']} | {r['configs']} | {r['method']} | "
                 f"{r['us_per_config_update']:.1f} | {r['config_updates_per_s']:.1f} | {r['tflops']:.3g} | "
                 f"{100 * r['fraction_of_ceiling']:.1f} | {ratio} |")
  lines += ["", "## Hessian-free: one Gauss-Newton product G·v against one gradient", "",
            "On one minibatch of the workload. A CG iteration pays one G·v on the linearized network; "
            "the first of an update also pays the linearization's forward pass. Goal: G·v ≤ 2 gradients.", "",
            "| workload | precision | gradient µs | G·v µs | G·v / gradient | first G·v (with linearization) / gradient |",
            "|---|---|---|---|---|---|"]
  for r in result.get("gauss_newton", []):
    lines.append(f"| {r['workload']} | {r['precision']} | {r['gradient_us']:.0f} | {r['gv_us']:.0f} | "
                 f"{r['gv_over_gradient']:.2f} | {r['gv_first_over_gradient']:.2f} |")
  return "\n".join(lines) + "\n"


def main(out: pathlib.Path | None, quick: bool) -> None:
  on_gpu = jax.devices()[0].platform != "cpu"
  if quick:
    sizes, kwargs = {"mnist": [2], "rnn": [2]}, dict(chunk=2, repeats=1, rnn_length=20, matmul_size=256)
  elif on_gpu:
    sizes, kwargs = {"mnist": [1, 54, 128], "rnn": [1, 32, 256]}, dict(chunk=50, repeats=3, rnn_length=200,
                                                                    matmul_size=8192, rnn_unrolls=(8, 1, 32))
  else:
    sizes, kwargs = {"mnist": [1, 4], "rnn": [1, 16]}, dict(chunk=10, repeats=2, rnn_length=80, matmul_size=1024)
  precisions = ["default", "highest"] if on_gpu or not quick else ["highest"]
  result = run_bench(sizes, precisions, **kwargs)
  if out is not None:
    out.mkdir(parents=True, exist_ok=True)
    files.write_json(out / "bench.json", result)
    files.write_text(out / "bench.md", markdown(result))
    print(f"wrote {out}/bench.json, bench.md")
