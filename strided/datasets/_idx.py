"""Shared loader of the MNIST-like data sets (four IDX files, or a Keras ``.npz``)."""

import os
from pathlib import Path

import numpy as np

from strided.datasets import _files

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _from_npz(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    except (KeyError, ValueError, OSError) as exc:
        raise ValueError(
            f"Could not read {path} as a Keras data set .npz (x_train, y_train, x_test, y_test): {exc}"
        ) from None


def _from_dir(directory, md5s):
    arrays = []
    for name in FILES:
        path = _files.find_idx_file(directory, name)
        data = _files.read_maybe_gz(path)
        if md5s:
            _files.check_md5(data, md5s.get(name), path)
        arrays.append(_files.parse_idx(data, path))
    x_train, y_train, x_test, y_test = arrays
    for x, y, part in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if len(x) != len(y):
            raise ValueError(f"{directory}: {part} images ({len(x)}) and labels ({len(y)}) differ in number.")
    return (x_train, y_train), (x_test, y_test)


def _complete(directory):
    return directory.is_dir() and all(_files.find_idx_file(directory, n) is not None for n in FILES)


def load(dataset, dir_names, path, keras_npz, keras_dir, url_npz=None, npz_sha256=None, url_base=None, md5s=None):
    """Loads ``((x_train, y_train), (x_test, y_test))`` following the search order of ``_files``."""
    if path is not None:
        p = Path(os.path.expanduser(os.fspath(path)))
        if p.is_file():
            return _from_npz(p)
        if p.is_dir():
            if not _complete(p):
                missing = [n for n in FILES if _files.find_idx_file(p, n) is None]
                raise FileNotFoundError(f"The folder {p} given as `path` lacks the {dataset} files {missing}.")
            return _from_dir(p, md5s)
        if p.name == str(path) and keras_npz and p.name.endswith(".npz"):
            keras_npz = p.name  # Keras's `path` argument: a file name inside its cache
        else:
            raise FileNotFoundError(
                f"Invalid value for argument `path`: no such file or folder. Received: path={path!r}"
            )
    places = []
    env = _files.data_dir_env()
    if env is not None:
        for name in dir_names:
            places.append(env / name)
            if _complete(env / name):
                return _from_dir(env / name, md5s)
    cache = _files.keras_cache()
    if keras_npz:
        places.append(cache / keras_npz)
        if (cache / keras_npz).is_file():
            return _from_npz(cache / keras_npz)
    if keras_dir:
        places.append(cache / keras_dir)
        if _complete(cache / keras_dir):
            return _from_dir(cache / keras_dir, md5s)
    repo = _files.repo_data()
    for name in dir_names:
        places.append(repo / name)
        if _complete(repo / name):
            return _from_dir(repo / name, md5s)
    if url_npz:
        try:
            return _from_npz(_files.download_to_cache(url_npz, keras_npz, npz_sha256, dataset))
        except (OSError, FileNotFoundError) as exc:
            _files.not_found(dataset, f"{' '.join(FILES)} or {keras_npz}", places, url_npz, f"\n({exc})")
    try:
        for name in FILES:
            if _files.find_idx_file(cache / keras_dir, name) is None:
                _files.download_to_cache(url_base + name, Path(keras_dir) / name, None, dataset)
    except (OSError, FileNotFoundError) as exc:
        _files.not_found(dataset, " ".join(FILES), places, url_base, f"\n({exc})")
    return _from_dir(cache / keras_dir, md5s)
