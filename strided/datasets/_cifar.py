"""Shared loader of CIFAR-10/100 (the "python version" pickles, read with a restricted unpickler)."""

import os
from pathlib import Path

import numpy as np

from strided import config
from strided.datasets import _files


def load_batch(fpath, label_key="labels"):
    """Reads one CIFAR batch file -> (data uint8 (n, 3, 32, 32), labels list)."""
    d = _files.load_pickle(fpath)
    if "data" not in d or label_key not in d:
        raise ValueError(f"The CIFAR file {fpath} lacks the keys 'data' and {label_key!r} (found {sorted(d)}).")
    data = np.asarray(d["data"], dtype=np.uint8)
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def _find_folder(inner, required, path, dataset, archive_name, keras_target):
    """The folder holding the batch files (``inner`` = 'cifar-10-batches-py'), searched in order."""

    def holds(folder):
        return folder.is_dir() and all((folder / r).is_file() for r in required)

    def look(base):
        for folder in (base, base / inner):
            if holds(folder):
                return folder
        archive = base / archive_name
        if archive.is_file():
            _files._dl.extract_archive(archive, base)
            if holds(base / inner):
                return base / inner
        return None

    if path is not None:
        p = Path(os.path.expanduser(os.fspath(path)))
        if p.is_file():
            found = look(p.parent) if p.name == archive_name else None
            if found is None:
                _files._dl.extract_archive(p, p.parent / (p.name + "-extracted"))
                found = look(p.parent / (p.name + "-extracted"))
        else:
            found = look(p) if p.is_dir() else None
        if found is None:
            raise FileNotFoundError(
                f"Invalid value for argument `path`: {p} does not hold the {dataset} files "
                f"{required} (nor {inner}/ or {archive_name})."
            )
        return found
    places = []
    bases = []
    env = _files.data_dir_env()
    if env is not None:
        bases.append(env / dataset)
    cache = _files.keras_cache()
    bases += [cache / keras_target, cache, _files.repo_data() / dataset]
    for base in bases:
        places.append(base / inner)
        found = look(base)
        if found is not None:
            return found
    return None, places


def load(dataset, inner, required, archive_name, keras_target, url, sha256):
    found = _find_folder(inner, required, None, dataset, archive_name, keras_target)
    if isinstance(found, tuple):
        places = found[1]
        try:
            archive = _files.download_to_cache(url, archive_name, sha256, dataset)
        except (OSError, FileNotFoundError) as exc:
            _files.not_found(
                dataset, f"{inner}/ with {', '.join(required)}, or {archive_name}", places, url, f"\n({exc})"
            )
        _files._dl.extract_archive(archive, _files.keras_cache() / keras_target)
        found = _files.keras_cache() / keras_target / inner
    return found


def to_layout(x):
    return x.transpose(0, 2, 3, 1) if config.image_data_format() == "channels_last" else x
