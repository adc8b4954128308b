"""Downloads into a cache, verified by checksum: ``get_file`` (Keras's) and the helpers the datasets use.

A download goes to a temporary file next to its destination and is renamed into place only after its
checksum passed, so an interrupted or corrupt download never replaces a good file.
"""

import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path


def cache_root(cache_dir=None):
    """Keras's cache directory: ``$KERAS_HOME`` or ``~/.keras`` (``/tmp/.keras`` when not writable)."""
    if cache_dir is not None:
        return Path(os.path.expanduser(os.fspath(cache_dir)))
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"])
    root = Path(os.path.expanduser("~")) / ".keras"
    if not os.access(root.parent, os.W_OK) and not root.exists():
        root = Path(tempfile.gettempdir()) / ".keras"
    return root


def hash_file(path, algorithm="sha256", chunk_size=1 << 20, decompress=False):
    """Hex digest of a file (of its gunzipped content when ``decompress``)."""
    h = hashlib.new(algorithm)
    opener = gzip.open if decompress else open
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest()


def _algorithm(file_hash, hash_algorithm="auto"):
    if hash_algorithm in ("sha256", "md5"):
        return hash_algorithm
    return "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"


def validate_file(path, file_hash, algorithm="auto", decompress=False):
    """True when the file's hash (of the decompressed content with ``decompress``) equals ``file_hash``."""
    return hash_file(path, _algorithm(file_hash, algorithm), decompress=decompress) == str(file_hash).lower()


def download(url, destination, file_hash=None, hash_algorithm="auto", decompress_hash=False, timeout=60):
    """Downloads ``url`` to ``destination`` through a temporary file that is renamed only once verified.

    Raises:
        ValueError: the downloaded content does not match ``file_hash`` (the partial file is deleted).
        OSError: the download failed (no network...); nothing is left behind.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=destination.name + ".", suffix=".part", dir=destination.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out)
        if file_hash is not None and not validate_file(tmp, file_hash, hash_algorithm, decompress_hash):
            raise ValueError(
                f"The file downloaded from {url} is corrupt: its checksum does not match the expected "
                f"{_algorithm(file_hash, hash_algorithm)} {file_hash}. Nothing was written to {destination}."
            )
        os.replace(tmp, destination)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return destination


def extract_archive(path, directory):
    """Extracts a .tar(.gz) or .zip archive into ``directory`` (refusing members that escape it)."""
    path, directory = Path(path), Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if not (directory / name).resolve().is_relative_to(root):
                    raise ValueError(f"Refusing to extract {name!r} from {path}: it points outside {directory}.")
            z.extractall(directory)
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as t:
            t.extractall(directory, filter="data")
    else:
        raise ValueError(f"Cannot extract {path}: not a zip or tar archive.")
    return directory


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """Downloads a file from a URL if it is not already in the cache (Keras's ``get_file``).

    Args:
        fname: file name in the cache (default: the last part of ``origin``).
        origin: URL of the file.
        untar: deprecated alias of ``extract``.
        md5_hash: deprecated, use ``file_hash``.
        file_hash: expected sha256 or md5 hex digest of the file.
        cache_subdir: subfolder of the cache (default 'datasets').
        hash_algorithm: 'md5', 'sha256' or 'auto' (by the digest's length).
        extract: extract a tar/zip archive; the folder of the extracted content is returned.
        archive_format: accepted for compatibility ('auto', 'tar', 'zip').
        cache_dir: cache location (default ``$KERAS_HOME`` or ``~/.keras``).
        force_download: download even when a cached file exists.

    Returns:
        Path (str) of the downloaded file, or of the extraction folder when ``extract``.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'. Please specify the `fname` argument."
            )
    directory = cache_root(cache_dir) / cache_subdir
    extract = extract or untar
    target = directory / fname
    archive = (
        target if not extract else directory / (fname + ("" if fname.endswith((".gz", ".zip", ".tar")) else ".tar.gz"))
    )
    if extract and target.is_dir() and any(target.iterdir()) and not force_download:
        return str(target)
    download_path = archive if extract else target
    if download_path.exists() and not force_download:
        if file_hash is None or validate_file(download_path, file_hash, hash_algorithm):
            if extract:
                extract_archive(download_path, target)
                return str(target)
            return str(download_path)
        print(
            f"A local file was found, but it seems to be incomplete or outdated because the "
            f"{_algorithm(file_hash, hash_algorithm)} file hash does not match the original value of {file_hash} "
            "so we will re-download the data."
        )
    try:
        print(f"Downloading data from {origin}")
        download(origin, download_path, file_hash, hash_algorithm)
    except (urllib.error.URLError, OSError) as exc:
        raise OSError(
            f"Could not download {origin} ({exc}). Put the file at {download_path} yourself or check the network."
        ) from None
    if extract:
        extract_archive(download_path, target)
        return str(target)
    return str(download_path)


__all__ = ["get_file", "download", "validate_file", "hash_file", "extract_archive", "cache_root"]
