"""Figures of what trained networks do, drawn from a run's last checkpoint.

- autoencoders: ``reconstructions.png``, held-out cases and their reconstructions by the
  best NAG (the best CM where no NAG ran), the best Hessian-free and the best plain-SGD
  (μ_max = 0) grid points (those the run has);
- RNNs: ``hidden_states.png``, the hidden-state trajectories on one held-out sequence of a
  solved (lowest error) and an unsolved (highest error) network.
"""

from __future__ import annotations

import pathlib
import sys

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from nesterov_jax.engine import files
from nesterov_jax.engine.optimizers import family
from nesterov_jax.engine.results import label as setting_label
from nesterov_jax.engine.train import load_final_state
from nesterov_jax.paper.optimizers import PAPER_OPTIMIZERS, is_sgd


def _point(point, records, i):
  """Grid point i's trained parameters at the point its family reports (NAG's θ, ...)."""
  s = point(i)
  return family(records[i]["optimizer"]).evaluation_params(s.params, s.opt_state)


def _pick(records, predicate, key=lambda r: r["final_train_error"], worst=False):
  candidates = [
    i
    for i, r in enumerate(records)
    if predicate(r) and not r["diverged"] and np.isfinite(r["final_train_error"])
  ]
  if not candidates:
    return None
  return (max if worst else min)(candidates, key=lambda i: key(records[i]))


def reconstructions_figure(
  workdir: pathlib.Path, records: list[dict], num_cases: int = 8
) -> str | None:
  """Held-out cases and their reconstructions by the best NAG (the best CM where no NAG ran),
  HF and SGD points and the best point of each optimizer the paper did not run (Adam, ...)."""
  _, task, _, point = load_final_state(workdir)
  rows = [("held-out cases", None)]
  others = sorted({r["optimizer"] for r in records} - set(PAPER_OPTIMIZERS))
  momentum = "nag" if any(r["optimizer"] == "nag" and r["mu_max"] > 0 for r in records) else "cm"
  for pred in (
    lambda r: r["optimizer"] == momentum and r["mu_max"] > 0,
    lambda r: r["optimizer"] == "hf",
    is_sgd,
    *[lambda r, name=name: r["optimizer"] == name for name in others],
  ):
    i = _pick(records, pred)
    if i is not None:
      r = records[i]
      mu = "ζ" if r["optimizer"] == "hf" else "μ_max"  # HF's grid μ_max is its CG decay ζ
      rows.append((f"best {setting_label(r, mu)}, ε {r['learning_rate']:g}, seed {r['seed']}", i))
  x = jnp.asarray(task.data["test"][:num_cases])
  side = int(round(np.sqrt(x.shape[1])))
  fig, axes = plt.subplots(
    len(rows), num_cases, figsize=(num_cases * 0.9, len(rows) * 1.05), squeeze=False
  )
  for row, (label, i) in zip(axes, rows):
    images = x if i is None else task.predict(_point(point, records, i), x)
    for ax, image in zip(row, np.asarray(images)):
      ax.imshow(image.reshape(side, side), cmap="gray", vmin=0, vmax=1)
      ax.set_xticks([])
      ax.set_yticks([])
    row[0].set_title(label, fontsize=7, loc="left")
  fig.suptitle(
    f"{records[0]['task']}: reconstructions at θ after {records[0]['num_updates']:,} updates",
    fontsize=8,
  )
  fig.tight_layout()
  files.save_figure(fig, workdir / "reconstructions.png", dpi=120)
  plt.close(fig)
  return "reconstructions.png"


def hidden_states_figure(
  workdir: pathlib.Path, records: list[dict], num_units: int = 25
) -> str | None:
  _, task, _, point = load_final_state(workdir)
  solved = _pick(records, lambda r: True)
  unsolved = _pick(records, lambda r: True, worst=True)
  if solved is None:
    return None
  x, _ = task.data["test"]
  x_T1I = jnp.swapaxes(jnp.asarray(x[:1]), 0, 1)
  inputs = np.asarray(x_T1I[:, 0])
  fig, axes = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
  for ax, i, label in ((axes[0], solved, "lowest error"), (axes[1], unsolved, "highest error")):
    r = records[i]
    _, hidden_TxBxH = task.predict(_point(point, records, i), x_T1I)
    ax.plot(np.asarray(hidden_TxBxH[:, 0, :num_units]), lw=0.8)
    # Marker steps (addition, multiplication) or shown symbols and go signal (memorization).
    events = (
      np.nonzero(inputs[:, 1] > 0.5)[0]
      if inputs.shape[1] == 2
      else np.nonzero((inputs[:, :-2].sum(1) > 0) | (inputs[:, -1] > 0))[0]
    )
    for t in events:
      ax.axvline(t, color="k", lw=0.6, ls=":")
    ax.set_title(
      f"{label}: {setting_label(r, 'μ0')}, ε {r['learning_rate']:g}, "
      f"seed {r['seed']}: error {r['final_train_error']:.3g}",
      fontsize=8,
    )
    ax.set_ylabel(f"hidden units 1-{num_units}")
  axes[1].set_xlabel("time step (dotted: marked / shown / go steps)")
  fig.suptitle(
    f"{records[0]['task']}: hidden-state trajectories on one held-out sequence", fontsize=9
  )
  fig.tight_layout()
  files.save_figure(fig, workdir / "hidden_states.png", dpi=120)
  plt.close(fig)
  return "hidden_states.png"


def write_figures(workdir: pathlib.Path, records: list[dict]) -> list[str]:
  """The figures that apply to this run's task, when its checkpoints are present."""
  if not any((workdir / "checkpoints").glob("*")):
    return []
  task = records[0]["task"]
  try:
    if task.endswith("_ae"):
      return [f for f in [reconstructions_figure(workdir, records)] if f]
    if task.startswith(("addition", "multiplication", "memorization")):
      return [f for f in [hidden_states_figure(workdir, records)] if f]
  except FileNotFoundError as e:  # an unreadable checkpoint costs the picture, not the tables
    print(f"nesterov-jax report: no picture of the trained networks: {e}", file=sys.stderr)
  return []
