"""The paper's published numbers (Sutskever et al. 2013, Tables 1, 2, 3 and 5), for comparison.

These are reference values printed *beside* ours in the tables the report writes; no
number here ever stands in for a measurement. Column keys: "sgd" is μ_max = 0 (Table 1)
or μ0 = 0 (Table 5); ("nag" | "cm", μ) the momentum columns.
"""

from __future__ import annotations

TABLE1_COLUMNS = (
  "sgd",
  ("nag", 0.9),
  ("nag", 0.99),
  ("nag", 0.995),
  ("nag", 0.999),
  ("cm", 0.9),
  ("cm", 0.99),
  ("cm", 0.995),
  ("cm", 0.999),
)


def _row(*values):
  return dict(zip(TABLE1_COLUMNS, values))


# Table 1: training squared error after 750,000 updates, best ε per column.
TABLE1 = {
  "curves_ae": _row(0.48, 0.16, 0.096, 0.091, 0.074, 0.15, 0.10, 0.10, 0.10),
  "mnist_ae": _row(2.1, 1.0, 0.73, 0.75, 0.80, 1.0, 0.77, 0.84, 0.90),
  "faces_ae": _row(36.4, 14.2, 8.5, 7.8, 7.7, 15.3, 8.7, 8.3, 9.3),
}
# Table 1's other columns: SGD_C (Chapelle & Erhan 2011), HF† (momentum-like HF), HF* (Martens 2010).
TABLE1_OTHERS = {
  "curves_ae": {"SGD_C": 0.16, "HF†": 0.058, "HF*": 0.11},
  "mnist_ae": {"SGD_C": 0.9, "HF†": 0.69, "HF*": 1.40},
  "faces_ae": {"SGD_C": None, "HF†": 7.5, "HF*": 12.0},
}
# Table 2: NAG's training error before → after the final 1000 updates at μ = 0.9.
TABLE2 = {"curves_ae": (0.096, 0.074), "mnist_ae": (1.20, 0.73), "faces_ae": (10.83, 7.7)}
# Table 3: Curves, best NAG setting, sparse-init scale multiplier → training error.
TABLE3 = {0.25: 16.0, 0.5: 16.0, 1.0: 0.074, 2.0: 0.083, 4.0: 0.35}

TABLE5_COLUMNS = (
  "biases",
  "sgd",
  ("nag", 0.9),
  ("nag", 0.98),
  ("nag", 0.995),
  ("cm", 0.9),
  ("cm", 0.98),
  ("cm", 0.995),
)
# Table 5: zero-one error (fraction of sequences off by > 0.04; wrong symbols per sequence).
TABLE5 = {
  "addition": dict(zip(TABLE5_COLUMNS, (0.82, 0.39, 0.02, 0.21, 0.00025, 0.43, 0.62, 0.036))),
  "multiplication": dict(zip(TABLE5_COLUMNS, (0.84, 0.48, 0.36, 0.22, 0.0013, 0.029, 0.025, 0.37))),
  "memorization5": dict(zip(TABLE5_COLUMNS, (2.5, 1.27, 1.02, 0.96, 0.63, 1.12, 1.09, 0.92))),
  "memorization20": dict(
    zip(TABLE5_COLUMNS, (8.0, 5.37, 2.77, 0.0144, 0.00005, 1.75, 0.0017, 0.053))
  ),
}
TABLE5_LENGTH = {"addition": 80, "multiplication": 80, "memorization5": 200, "memorization20": 80}

PROTOCOL = {
  "ae": "750,000 updates of 200 cases, ε best of 6 ({0.05, 0.01, 0.005, 0.001, 0.0005, 0.0001}), "
  "Eq. 5 with period 250, last 1000 updates at μ = 0.9",
  "rnn": "50,000 updates of 100 sequences, ε best of {1e-3, 1e-4, 1e-5, 1e-6}, μ = 0.9 for 1000 "
  "updates then μ0, 4 seeds",
}
PAPER_DATA = {
  "curves_ae": "20,000 curves (digs3pts_1.mat)",
  "mnist_ae": "60,000 MNIST digits",
  "faces_ae": "103,500 faces (newfaces_rot_single.mat)",
}
# Section 5's HF runs, in the paper's words (HF*: Martens 2010; HF†: the momentum-like hybrid).
HF_PROTOCOL = {
  "HF*": "Martens (2010)'s HF: CG warm start decayed by 0.95, Levenberg-Marquardt damping, CG "
  "backtracking, line search, L2 weight cost",
  "curves_ae": "250k CG steps at 50 per update on minibatches of 1/16, ε = 1, μ = 0.95; then "
  "μ = 0.999, ε = 500/(t − 4000); then full batch, 200 CG steps per update, μ = 0.995, "
  "ε = 1 (→ 0.087); then L2 2e-5 → ~0 for 500k more CG steps (→ 0.058)",
  "mnist_ae": "25k CG steps at 50 per update on minibatches of 1/20, ε = 1, μ = 0.95; then "
  "μ = 0.995, ε = 250/t for 225k more (→ 0.81); then full-batch gradient, ε = 1, "
  "125k steps (→ 0.69); L2 1e-5 throughout",
}
