"""The deep autoencoder tasks of Section 3: Curves, MNIST and Faces (Table 1).

| task | encoder (decoder mirrors it) | outputs | loss optimized |
|---|---|---|---|
| ``curves_ae`` | 784-400-200-100-50-25-6 | logistic | cross-entropy |
| ``mnist_ae`` | 784-1000-500-250-30 | logistic | cross-entropy |
| ``faces_ae`` | 625-2000-1000-500-30 | linear | squared error |

The reported error is the paper's: squared error summed over pixels, averaged over the
cases of the whole training set (plus the same on held-out cases, which the paper does
not report). Losses are summed over pixels and averaged over the minibatch; squared
error is ½Σ(output − target)² (the unit types and losses follow Martens' 2010 code).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import optax

from nesterov_jax.paper import data as datasets
from nesterov_jax.paper.models import Autoencoder, dense_squared_gradients
from nesterov_jax.engine.tasks import Task, dataset_mean, minibatch

ARCHITECTURES = {
  "curves_ae": ((400, 200, 100, 50, 25, 6), 784, "logistic"),
  "mnist_ae": ((1000, 500, 250, 30), 784, "logistic"),
  "faces_ae": ((2000, 1000, 500, 30), 625, "linear"),
}


def load_data(config: ml_collections.ConfigDict) -> datasets.Dataset:
  sizes = dict(num_train=config.num_train, num_test=config.num_test, seed=config.data_seed)
  if config.name == "curves_ae":
    # A run recorded before the calibrated generator existed has no such field: it used v1.
    return datasets.load_curves(
      config.data_dir, **sizes, generator=config.get("curves_generator", "v1")
    )
  if config.name == "faces_ae":
    return datasets.load_faces(config.data_dir, **sizes)
  return datasets.load_mnist(
    config.data_dir, embedded_test_cases=config.num_test, seed=config.data_seed
  )


def autoencoder_task(config: ml_collections.ConfigDict) -> Task:
  """Config fields: ``name``, ``data_dir`` ("" = embedded/generated), ``num_train`` and
  ``num_test`` (generated/embedded sets only), ``data_seed``, ``curves_generator`` (Curves:
  ``"calibrated"`` or ``"v1"``), ``batch_size`` (200 in the paper), ``eval_batch_size``,
  ``num_connections`` (15). Grid axis: ``init_scale``."""
  encoder_sizes, size, output = ARCHITECTURES[config.name]
  dataset = load_data(config)
  model = Autoencoder(encoder_sizes, size, config.num_connections)

  def init(key, hparams):
    params = model.init(key, jnp.zeros((1, size)))["params"]
    scale = hparams.get("init_scale", 1.0)  # Table 3's multiplier on the sparse init
    return jax.tree.map(lambda p: p * scale, params)

  def apply(params, x):
    return model.apply({"params": params}, x)

  def output_loss(outputs, targets):
    if output == "logistic":
      per_pixel = optax.sigmoid_binary_cross_entropy(outputs, targets)
    else:
      per_pixel = 0.5 * (outputs - targets) ** 2
    return jnp.mean(jnp.sum(per_pixel, axis=-1))

  def squared_gradients(params, x, targets):
    return dense_squared_gradients(
      model, params, x, lambda out: output_loss(out, targets) * x.shape[0]
    )

  def reconstruct(params, x):
    outputs = apply(params, x)
    return jax.nn.sigmoid(outputs) if output == "logistic" else outputs

  def squared_error(params, x):
    return jnp.sum((reconstruct(params, x) - x) ** 2, axis=-1)

  def sample(data, key, batch_size=None):
    return minibatch(data["train"], data["train"], key, batch_size or config.batch_size)

  def evaluate(params, data):
    per_case = lambda x: squared_error(params, x)
    return {
      "train_error": dataset_mean(per_case, data["train"], config.eval_batch_size),
      "test_error": dataset_mean(per_case, data["test"], config.eval_batch_size),
    }

  return Task(
    config.name,
    {"train": dataset.train, "test": dataset.test},
    init,
    apply,
    output_loss,
    sample,
    evaluate,
    hparam_axes=("init_scale",),
    provenance=dataset.provenance,
    predict=reconstruct,
    train_set=lambda data: (data["train"], data["train"]),
    num_train=int(dataset.train.shape[0]),
    squared_gradients=squared_gradients,
  )


# The autoencoder tasks' own config fields, checked in one line by the engine.
autoencoder_task.fields = {"num_connections": "positive_int", "curves_generator": "string"}
