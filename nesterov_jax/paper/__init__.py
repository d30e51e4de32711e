"""The reproduction of Sutskever, Martens, Dahl & Hinton (2013): the paper's tasks (Flax
autoencoders on Curves, MNIST and Faces; tanh RNNs on the long-term-dependency problems),
their data, the protocols as sweep configs, the paper's published numbers and the tables
and figures that put ours beside them, Section 2's quadratics, and the benchmark.

Imported when used; it needs flax and the data packages besides the engine's dependencies.
"""

from nesterov_jax.paper.protocols import sweep_config

__all__ = ["sweep_config"]
