"""Finding, verifying and (only as a last resort) downloading the files of a data set.

Search order for a data set ``name``:

1. the explicit ``path`` given to ``load_data`` (a Keras ``.npz`` or a folder of original files);
2. ``$STRIDED_DATA_DIR/<name>/`` (original distribution format, e.g. the four MNIST IDX ``.gz`` files);
3. Keras's cache, ``~/.keras/datasets/`` (``$KERAS_HOME`` when set), under Keras's own names, so an
   existing Keras download is reused;
4. the copy embedded in the repository, ``<repo>/data/<name>/``;
5. a download from Keras's public URL into Keras's cache (verified, then renamed into place).

Checksums of compressed files are taken on the *decompressed* content: a re-compressed ``.gz`` with the
same content is just as good (see ../shared/data/mnist/README.md).
"""

import gzip
import hashlib
import os
import pickle
from pathlib import Path

import numpy as np

from strided.data import files as _dl

OFFLINE_ENV = "STRIDED_OFFLINE"  # set to 1 to forbid downloads (tests)


def data_dir_env():
    value = os.environ.get("STRIDED_DATA_DIR")
    return Path(value) if value else None


def keras_cache():
    return _dl.cache_root() / "datasets"


def repo_data():
    return Path(__file__).resolve().parents[2] / "data"  # <repo>/strided/datasets/_files.py -> <repo>/data


def candidate_dirs(names):
    """Folders searched for a data set's original files, in order (existing or not)."""
    names = [names] if isinstance(names, str) else list(names)
    out = []
    env = data_dir_env()
    if env is not None:
        out += [env / n for n in names]
    out += [keras_cache() / n for n in names]
    out += [repo_data() / n for n in names]
    return out


def read_maybe_gz(path):
    path = Path(path)
    with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
        try:
            return f.read()
        except (OSError, EOFError) as exc:
            raise ValueError(
                f"The file {path} is corrupt or truncated ({exc}). Delete it and put a good copy there."
            ) from None


def check_md5(data, expected, path):
    if expected is None:
        return
    got = hashlib.md5(data).hexdigest()
    if got != expected:
        raise ValueError(
            f"The file {path} is corrupt: the MD5 of its decompressed content is {got}, expected "
            f"{expected}. Delete it (it will be looked up again) or replace it with a good copy."
        )


def parse_idx(data, path):
    """Parses an IDX file (big-endian magic 0x0000 08 <ndim>, then the dimensions, then uint8 data)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"The file {path} is not an IDX file of unsigned bytes (bad magic number).")
    ndim = data[3]
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).astype(int)
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(data) - offset != expected:
        raise ValueError(
            f"The file {path} is corrupt: header says {tuple(dims)} ({expected} bytes) but it holds "
            f"{len(data) - offset} bytes."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def find_idx_file(directory, name):
    """``name`` (an IDX file name ending in .gz) or its uncompressed form inside ``directory``."""
    directory = Path(directory)
    for candidate in (directory / name, directory / name[:-3] if name.endswith(".gz") else directory / name):
        if candidate.is_file():
            return candidate
    return None


def offline():
    return os.environ.get(OFFLINE_ENV, "").lower() in ("1", "true", "yes")


def not_found(dataset, what, places, url=None, extra=""):
    where = "\n  ".join(str(p) for p in places)
    msg = (
        f"Could not find the {dataset} data ({what}). Looked in:\n  {where}\n"
        f"Put the files in one of these folders (e.g. set STRIDED_DATA_DIR=/path/to/data with "
        f"/path/to/data/{dataset}/...)"
    )
    if url:
        msg += f", or allow a download from {url}"
    raise FileNotFoundError(msg + "." + extra)


def download_to_cache(url, relative, file_hash=None, dataset=""):
    """Downloads ``url`` to ``keras_cache()/relative`` (verified, atomic); a clear error when offline."""
    destination = keras_cache() / relative
    if offline():
        raise FileNotFoundError(f"{destination} is not there and downloads are disabled ({OFFLINE_ENV}=1).")
    print(f"Downloading data from {url}")
    try:
        return _dl.download(url, destination, file_hash=file_hash)
    except ValueError:
        raise
    except OSError as exc:
        raise OSError(
            f"No {dataset} data was found locally and downloading {url} failed ({exc}). Put the file at "
            f"{destination}, or the original files in $STRIDED_DATA_DIR/{dataset}/."
        ) from None


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler for the CIFAR batches: only dicts, lists, bytes and NumPy array reconstruction.

    CIFAR's files are Python pickles; a tampered file could otherwise run code while loading. Any global
    outside this list is refused.
    """

    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
        }
    )

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to load `{module}.{name}` from a data set file: the file may be corrupt or malicious."
        )


def load_pickle(path):
    with open(path, "rb") as f:
        try:
            d = RestrictedUnpickler(f, encoding="bytes").load()
        except (pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise ValueError(f"Could not read the data set file {path}: {exc}") from None
    if not isinstance(d, dict):
        raise ValueError(f"The data set file {path} does not hold a dict (it holds {type(d).__name__}).")
    return {(k.decode("utf8") if isinstance(k, bytes) else k): v for k, v in d.items()}
