"""Files written safely: a temporary next to the target, moved into place with ``os.replace``.

Used by every writer of user files (``.keras``, ``.weights.h5``, ``.h5``, exports, the weights file editor,
``BackupAndRestore``), so an interrupted or killed write leaves the previous file intact.
"""

import contextlib
import os
import stat
import tempfile
import threading

# A save in progress writes ``<target>.partial-save-<pid>-<random><suffix>`` next to the target (the same
# file system, so ``os.replace`` is atomic), a name that says what the file is when a killed save leaves it.
_PARTIAL = ".partial-save-"
_umask_lock = threading.Lock()


def _current_umask():
    with _umask_lock:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _pid_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's process: leave its file alone
    return True


def remove_stale_partials(filepath):
    """Removes the temporaries a killed save of ``filepath`` left (their writer process is gone).

    Returns the paths removed. Temporaries of a save still running (in this or another live process)
    are kept.
    """
    directory = os.path.dirname(os.path.abspath(filepath))
    prefix = os.path.basename(filepath) + _PARTIAL
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(prefix):
            continue
        pid_text = name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        path = os.path.join(directory, name)
        try:
            os.remove(path)
            removed.append(path)
        except OSError:
            pass
    return removed


@contextlib.contextmanager
def atomic_path(filepath, suffix=".tmp"):
    """Yields a temporary path next to ``filepath``; on success it replaces ``filepath`` atomically.

    A save killed at any point leaves the previous ``filepath`` intact; the temporary it leaves is named
    ``<file>.partial-save-<pid>-...`` and is removed by the next save of the same file. The new file gets
    the mode of the file it replaces, or, for a new file, the usual ``0o666 & ~umask`` (``mkstemp`` alone
    would make it 0600).
    """
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    remove_stale_partials(filepath)
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix=os.path.basename(filepath) + _PARTIAL + f"{os.getpid()}-", suffix=suffix
    )
    os.close(fd)
    try:
        yield tmp
        try:
            mode = stat.S_IMODE(os.stat(filepath).st_mode)
        except OSError:
            mode = 0o666 & ~_current_umask()
        with open(tmp, "rb+") as f:  # the bytes reach the disk before the name points at them
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, filepath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
