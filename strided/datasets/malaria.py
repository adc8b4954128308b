"""Malaria cell images (NIH), the data set of ``tfds.load('malaria')`` in seed 002, without TensorFlow.

27,558 RGB images of thin blood smear cells, labels as TFDS defines them: 0 = 'parasitized',
1 = 'uninfected'. The NIH distribution ``cell_images.zip`` (folders ``Parasitized/`` and ``Uninfected/``
of PNG files, sizes around 130x130) is read directly, as a folder or as the zip. Images are resized with
antialiasing (Pillow's bilinear filter, which widens its support when shrinking, like the default
``skimage.transform.resize(..., anti_aliasing=True)`` of the seed) and returned as float32 in [0, 1].
The first read writes a compact uint8 ``.npz`` cache next to the data, so later loads take a second.
"""

import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from strided.data.dataset import BatchDataset
from strided.data.image_utils import _pil
from strided.datasets import _files

CLASS_NAMES = ("parasitized", "uninfected")
_FOLDERS = {"parasitized": 0, "uninfected": 1}
NIH_PAGE = "https://lhncbc.nlm.nih.gov/LHC-research/LHC-projects/image-processing/malaria-datasheet.html"
NIH_ZIP = "https://data.lhncbc.nlm.nih.gov/public/Malaria/cell_images.zip"
_EXTS = (".png", ".jpg", ".jpeg", ".bmp")


class _Source:
    """A list of (member, label) in a folder tree or a zip, in a fixed order (class, then file name)."""

    def __init__(self, root):
        self.root = Path(root)
        self.zip = None
        items = []
        if self.root.is_file():
            try:
                self.zip = zipfile.ZipFile(self.root)
            except zipfile.BadZipFile:
                raise ValueError(
                    f"The malaria file {self.root} is not a valid zip archive (corrupt or truncated "
                    f"download?). Get cell_images.zip again from {NIH_PAGE}."
                ) from None
            for name in self.zip.namelist():
                parts = name.replace("\\", "/").split("/")
                if len(parts) >= 2 and parts[-2].lower() in _FOLDERS and parts[-1].lower().endswith(_EXTS):
                    items.append((name, _FOLDERS[parts[-2].lower()]))
        else:
            for sub in sorted(os.listdir(self.root)):
                label = _FOLDERS.get(sub.lower())
                if label is None or not (self.root / sub).is_dir():
                    continue
                for fname in os.listdir(self.root / sub):
                    if fname.lower().endswith(_EXTS):
                        items.append((os.path.join(sub, fname), label))
        items.sort(key=lambda item: (item[1], item[0]))
        if not items or len({label for _, label in items}) < 2:
            found = sorted({label for _, label in items})
            raise ValueError(
                f"The malaria data at {self.root} must hold both folders Parasitized/ and Uninfected/ "
                f"with image files; found {len(items)} images in classes "
                f"{[CLASS_NAMES[i] for i in found]}."
            )
        self.members = [m for m, _ in items]
        self.labels = np.asarray([lab for _, lab in items], dtype=np.int64)

    def read(self, i, image_size):
        Image = _pil()
        member = self.members[i]
        try:
            if self.zip is not None:
                img = Image.open(io.BytesIO(self.zip.read(member)))
            else:
                img = Image.open(self.root / member)
            img = img.convert("RGB")
        except Exception as exc:
            raise ValueError(f"Could not read the malaria image {self.root / member}: {exc}") from None
        resampling = getattr(Image, "Resampling", Image)
        if img.size != (image_size[1], image_size[0]):
            img = img.resize((image_size[1], image_size[0]), resampling.BILINEAR, reducing_gap=None)
        return np.asarray(img, dtype=np.uint8)


def _locate(path):
    """Folder with Parasitized/ and Uninfected/, or the zip; searched as documented in ``load_data``."""

    def check(base):
        base = Path(base)
        if base.is_file() and base.suffix == ".zip":
            return base
        if not base.is_dir():
            return None
        names = {n.lower() for n in os.listdir(base)}
        if {"parasitized", "uninfected"} <= names:
            return base
        if (base / "cell_images").is_dir():
            return check(base / "cell_images")
        if (base / "cell_images.zip").is_file():
            return base / "cell_images.zip"
        return None

    if path is not None:
        p = Path(os.path.expanduser(os.fspath(path)))
        found = check(p)
        if found is None:
            raise FileNotFoundError(
                f"Invalid value for argument `path`: {p} is neither cell_images.zip nor a folder "
                f"with Parasitized/ and Uninfected/ (or cell_images/). Get the data from {NIH_PAGE} "
                f"({NIH_ZIP})."
            )
        return found
    places = []
    env = _files.data_dir_env()
    if env is not None:
        places.append(env / "malaria")
    places += [_files.keras_cache() / "malaria", _files.repo_data() / "malaria"]
    for place in places:
        found = check(place)
        if found is not None:
            return found
    where = "\n  ".join(str(p) for p in places)
    raise FileNotFoundError(
        "The malaria data set was not found. Download cell_images.zip (337 MB) from the NIH page "
        f"{NIH_PAGE} (direct link: {NIH_ZIP}) and put it, or its extracted cell_images/ folder, in one of:\n  "
        f"{where}\n(e.g. set STRIDED_DATA_DIR=/path/to/data and use /path/to/data/malaria/cell_images.zip), "
        "or pass `path=` to load_data."
    )


def _order(n, shuffle, seed, limit):
    order = np.random.RandomState(seed).permutation(n) if shuffle else np.arange(n)
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit <= 0:
            raise ValueError(
                f"Invalid value for argument `limit`. Expected a positive integer or None. Received: limit={limit!r}"
            )
        order = order[: int(limit)]
    return order


def _size(image_size):
    if isinstance(image_size, (int, np.integer)):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(isinstance(v, (int, np.integer)) and v > 0 for v in image_size)
    ):
        raise ValueError(
            f"Invalid value for argument `image_size`. Expected (height, width) positive integers. "
            f"Received: image_size={image_size!r}"
        )
    return int(image_size[0]), int(image_size[1])


def _cache_file(source_path, image_size, shuffle, seed, limit, n_files):
    key = f"{image_size[0]}x{image_size[1]}-{int(bool(shuffle))}-{seed}-{limit}-{n_files}"
    name = f"malaria_cache_{image_size[0]}x{image_size[1]}_{hashlib.md5(key.encode()).hexdigest()[:10]}.npz"
    folder = source_path.parent if source_path.is_file() else source_path.parent
    if not os.access(folder, os.W_OK):
        folder = _files.keras_cache() / "malaria"
    return folder / name


def load_data(
    path=None, image_size=(100, 100), limit=None, shuffle=True, seed=0, cache=True, stream=False, batch_size=256
):
    """Loads the malaria cell images (TFDS labels: 0 = parasitized, 1 = uninfected).

    Looks for ``cell_images.zip`` or a folder with ``Parasitized/`` and ``Uninfected/`` (or ``cell_images/``)
    in ``path``, then ``$STRIDED_DATA_DIR/malaria/``, ``~/.keras/datasets/malaria/``, the repository's
    ``data/malaria/``. Nothing is downloaded (the error says where to get the data).

    Args:
        path: the zip, or a folder holding the class folders.
        image_size: (height, width) every image is resized to (default (100, 100), as seed 002).
        limit: keep only the first ``limit`` images of the (shuffled) order; seed 002 uses 2500.
        shuffle: mix the two classes (TFDS's split is mixed too); ``False`` keeps parasitized first.
        seed: seed of the shuffle (default 0, so results are reproducible).
        cache: read/write a uint8 ``.npz`` next to the data (or in ``~/.keras/datasets/malaria``).
        stream: return a dataset of batches read on demand instead of arrays (for all 27,558 images).
        batch_size: batch size when ``stream``.

    Returns:
        ``(x, y)``: x float32 (n, height, width, 3) in [0, 1], y int64 (n,); with ``stream=True`` a
        :class:`MalariaDataset` yielding such ``(x, y)`` batches (``len()`` = number of batches).
    """
    image_size = _size(image_size)
    source_path = _locate(path)
    source = _Source(source_path)
    order = _order(len(source.members), shuffle, seed, limit)
    if stream:
        return MalariaDataset(source, order, image_size, batch_size)
    cache_path = _cache_file(source_path, image_size, shuffle, seed, limit, len(source.members)) if cache else None
    if cache_path is not None and cache_path.is_file():
        try:
            with np.load(cache_path, allow_pickle=False) as f:
                if f["x"].shape[0] == len(order):
                    return f["x"].astype(np.float32) / np.float32(255), f["y"].astype(np.int64)
        except (OSError, ValueError, KeyError):
            pass  # an unreadable cache is rebuilt below
    x = np.empty((len(order), *image_size, 3), dtype=np.uint8)
    for k, i in enumerate(order):
        x[k] = source.read(int(i), image_size)
    y = source.labels[order]
    if cache_path is not None:
        _write_cache(cache_path, x, y)
    return x.astype(np.float32) / np.float32(255), y


def _write_cache(path, x, y):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp.npz", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, x=x, y=y)
        os.replace(tmp, path)
    except OSError:
        pass  # caching is an optimisation; a read-only location just means no cache


class MalariaDataset(BatchDataset):
    """Batches ``(x float32 in [0, 1], y int64)`` of malaria images read on demand (``load_data(stream=True)``)."""

    def __init__(self, source, order, image_size, batch_size=256):
        super().__init__(batch_size=batch_size, shuffle=False)
        self._source, self._index, self.image_size = source, np.asarray(order), image_size
        self.class_names = list(CLASS_NAMES)

    def _num_items(self):
        return len(self._index)

    def _get(self, indices):
        ids = self._index[indices]
        x = np.stack([self._source.read(int(i), self.image_size) for i in ids]).astype(np.float32) / np.float32(255)
        return x, self._source.labels[ids]


__all__ = ["load_data", "MalariaDataset", "CLASS_NAMES"]
