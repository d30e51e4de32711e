"""Section 2 of the paper on quadratics, as three figures and a table.

1. ``oblong.png``: CM and NAG at the same μ and ε on the 2-D oblong quadratic, drawn over
   its contours. CM oscillates across the narrow valley; NAG barely does (Section 2.1).
2. ``effective_momentum.png``: Theorem 2.1: per eigen-direction NAG is CM with momentum
   μ(1 − λε), so it damps momentum in high-curvature directions.
3. ``ill_conditioned.png``: f(θ) against updates for gradient descent, CM and NAG on an
   ill-conditioned quadratic.

``quadratic.md`` gives the numbers behind 1 and 3; ``results.json`` the raw curves'
summary; both carry their provenance.
"""

from __future__ import annotations

import json
import pathlib
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import ml_collections
import numpy as np

import nesterov_jax as nj
from nesterov_jax.engine import files, provenance
from nesterov_jax.paper import quadratics
from nesterov_jax.engine.config import ConfigError

COLORS = {"gd": "0.3", "cm": "tab:red", "nag": "tab:blue"}


def validate(config: ml_collections.ConfigDict) -> None:
  momenta = list(config.ill.momenta) + [config.oblong.momentum, config.ill.schedule_mu_max]
  if any(not 0.0 <= m < 1.0 for m in momenta):
    raise ConfigError(f"every momentum must lie in [0, 1); got {momenta}")
  if min(config.oblong.learning_rate, config.ill.learning_rate) <= 0:
    raise ConfigError("learning rates must be > 0")
  if min(config.oblong.eigenvalues) <= 0 or len(config.oblong.eigenvalues) != 2:
    raise ConfigError("oblong.eigenvalues must be two positive numbers")


def _run(method: str, learning_rate, momentum, problem, theta0, steps):
  factory = {"gd": nj.cm, "cm": nj.cm, "nag": nj.nag}[method]
  run = jax.jit(
    lambda p: quadratics.optimize(factory(learning_rate, momentum), problem.loss, p, steps)
  )
  thetas, losses = run(theta0)
  return np.asarray(thetas), np.asarray(losses)


def oblong_figure(config, workdir: pathlib.Path) -> dict:
  c = config.oblong
  problem = quadratics.quadratic_from_eigenvalues(jnp.array(c.eigenvalues))
  theta0 = jnp.array(c.start)
  paths = {
    m: _run(m, c.learning_rate, c.momentum, problem, theta0, c.steps)[0] for m in ("cm", "nag")
  }

  fig, ax = plt.subplots(figsize=(7, 3.6))
  x = np.linspace(-4.6, 1.2, 300)
  y = np.linspace(-1.3, 1.3, 200)
  xx, yy = np.meshgrid(x, y)
  ff = 0.5 * (c.eigenvalues[0] * xx**2 + c.eigenvalues[1] * yy**2)
  ax.contour(xx, yy, ff, levels=np.geomspace(1e-3, ff.max(), 14), colors="0.8", linewidths=0.7)
  for m, label in (("cm", "CM"), ("nag", "NAG")):
    ax.plot(paths[m][:, 0], paths[m][:, 1], "-o", ms=2.5, lw=1.0, color=COLORS[m], label=label)
  ax.plot(*theta0, "k*", ms=9, label="start")
  ax.plot(0, 0, "k+", ms=10)
  ax.set_title(
    f"Oblong quadratic, λ = {tuple(c.eigenvalues)}, μ = {c.momentum}, ε = {c.learning_rate}, "
    f"{c.steps} updates",
    fontsize=9,
  )
  ax.set_xlabel("low-curvature direction")
  ax.set_ylabel("high-curvature direction")
  ax.set_aspect("equal")
  ax.legend(loc="lower right", fontsize=8)
  fig.tight_layout()
  files.save_figure(fig, workdir / "oblong.png", dpi=130)
  plt.close(fig)
  # Oscillation across the valley: mean |y| over the run, after the first 5 updates.
  return {
    m: {
      "mean_abs_cross_valley": float(np.mean(np.abs(p[5:, 1]))),
      "final_loss": float(problem.loss(jnp.asarray(p[-1]))),
    }
    for m, p in paths.items()
  }


def effective_momentum_figure(config, workdir: pathlib.Path) -> None:
  lam_eps = np.linspace(0.0, 2.0, 201)
  fig, ax = plt.subplots(figsize=(5, 3.6))
  for mu in config.effective_momenta:
    ax.plot(lam_eps, mu * (1.0 - lam_eps), label=f"NAG, μ = {mu}")
  ax.axhline(
    config.effective_momenta[-1],
    color=COLORS["cm"],
    ls="--",
    lw=1,
    label=f"CM, μ = {config.effective_momenta[-1]} (all λ)",
  )
  ax.axhline(0.0, color="k", lw=0.5)
  ax.set_xlabel("λε  (curvature × learning rate)")
  ax.set_ylabel("effective momentum  μ(1 − λε)")
  ax.set_title("Theorem 2.1: NAG is CM with momentum μ(1 − λε)", fontsize=9)
  ax.legend(fontsize=8)
  fig.tight_layout()
  files.save_figure(fig, workdir / "effective_momentum.png", dpi=130)
  plt.close(fig)


def ill_conditioned_figure(config, workdir: pathlib.Path) -> list[dict]:
  c = config.ill
  key_problem, key_start = jax.random.split(jax.random.key(config.seed))
  problem = quadratics.random_quadratic(key_problem, c.dim, c.condition_number)
  theta0 = jax.random.normal(key_start, (c.dim,))
  runs = [("gd", "0", 0.0)]
  for mu in c.momenta:
    runs += [("cm", f"{mu}", mu), ("nag", f"{mu}", mu)]
  schedule = nj.momentum_schedule(c.schedule_mu_max, period=c.schedule_period)
  label = f"Eq. 5, μ_max {c.schedule_mu_max}"
  runs += [("cm", label, schedule), ("nag", label, schedule)]

  fig, ax = plt.subplots(figsize=(6.5, 4))
  rows = []
  momentum_labels = list(dict.fromkeys(r[1] for r in runs[1:]))
  for method, mu_label, momentum in runs:
    _, losses = _run(method, c.learning_rate, momentum, problem, theta0, c.steps)
    # One colour per momentum setting; NAG solid, CM dashed.
    color = COLORS["gd"] if method == "gd" else f"C{momentum_labels.index(mu_label)}"
    name = "GD" if method == "gd" else f"{method.upper()}, μ = {mu_label}"
    ax.semilogy(
      np.maximum(losses, 1e-30), "--" if method == "cm" else "-", color=color, lw=1.0, label=name
    )
    below = np.nonzero(losses <= 1e-6 * losses[0])[0]
    checkpoints = [t for t in (100, 1000, c.steps) if t <= c.steps]
    rows.append(
      {
        "method": method,
        "momentum": mu_label,
        "learning_rate": c.learning_rate,
        **{f"loss_at_{t}": float(losses[t]) for t in checkpoints},
        "updates_to_1e-6": int(below[0]) if below.size else None,
      }
    )
  ax.set_xlabel("update t")
  ax.set_ylabel("f(θ[t])  (minimum 0)")
  ax.set_title(
    f"Ill-conditioned quadratic, D = {c.dim}, κ = {c.condition_number:g}, ε = {c.learning_rate}",
    fontsize=9,
  )
  ax.legend(fontsize=7, ncol=2)
  fig.tight_layout()
  files.save_figure(fig, workdir / "ill_conditioned.png", dpi=130)
  plt.close(fig)
  return rows


def _fmt(x) -> str:
  return "—" if x is None else (f"{x:.3g}" if isinstance(x, float) else str(x))


def write_table(workdir: pathlib.Path, config, oblong: dict, rows: list[dict], prov: dict) -> None:
  lines = [
    "# Section 2 on quadratics",
    "",
    provenance.markdown(prov),
    "The paper has no numbers for these figures; this table is ours alone.",
    "",
    f"## Oblong quadratic (oblong.png): λ = {tuple(config.oblong.eigenvalues)}, "
    f"μ = {config.oblong.momentum}, ε = {config.oblong.learning_rate}",
    "",
    "| method | mean abs cross-valley coordinate, t ≥ 5 | final f(θ) |",
    "|---|---|---|",
  ]
  lines += [
    f"| {m.upper()} | {v['mean_abs_cross_valley']:.3g} | {v['final_loss']:.3g} |"
    for m, v in oblong.items()
  ]
  loss_keys = [k for k in rows[0] if k.startswith("loss_at_")]
  lines += [
    "",
    f"## Ill-conditioned quadratic (ill_conditioned.png): D = {config.ill.dim}, "
    f"κ = {config.ill.condition_number:g}, ε = {config.ill.learning_rate}",
    "",
    "| method | μ | "
    + " | ".join(f"f(θ) at t = {k[8:]}" for k in loss_keys)
    + " | updates to f ≤ 1e-6 f(θ0) |",
    "|---|---|" + "---|" * (len(loss_keys) + 1),
  ]
  lines += [
    f"| {r['method'].upper()} | {r['momentum']} | "
    + " | ".join(_fmt(r[k]) for k in loss_keys)
    + f" | {_fmt(r['updates_to_1e-6'])} |"
    for r in rows
  ]
  files.write_text(workdir / "quadratic.md", "\n".join(lines) + "\n")


def run(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
  validate(config)
  start = time.perf_counter()
  oblong = oblong_figure(config, workdir)
  effective_momentum_figure(config, workdir)
  rows = ill_conditioned_figure(config, workdir)
  prov = provenance.record(time.perf_counter() - start)
  write_table(workdir, config, oblong, rows, prov)
  files.write_text(
    workdir / "results.json",
    json.dumps({"provenance": prov, "oblong": oblong, "ill_conditioned": rows}, indent=2) + "\n",
  )
  print(
    f"wrote {workdir}/quadratic.md, oblong.png, effective_momentum.png, ill_conditioned.png "
    f"({prov['wall_time_s']:.1f} s)"
  )
