"""Scratch folders rexeval makes beside its outputs (a run being written, an archive being unpacked), marked
as rexeval's so that the ones a crashed process left behind can be removed later, and nothing else.

A folder is made with a marker file naming its owner (process id, host, time). :func:`remove_stale` removes
a folder with the given name prefix only when it carries that marker and its owner is gone: a process of
this host that no longer exists, or (any host) a marker older than :data:`STALE_AFTER_S`. A folder
without the marker (the user's, another tool's, an older rexeval's) is never touched.

:func:`remove_on_exit` also removes a folder when the process ends on SIGTERM, which skips ``atexit``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path

MARKER = ".rexeval-owner"
#: A marked folder this old is stale whatever its owner (a crashed process on another host sharing the disk).
STALE_AFTER_S = 24 * 3600


def _owner() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "created": time.time()}


def make_owned_dir(parent: Path, prefix: str, *, private: bool = False) -> Path:
    """A fresh folder ``parent/<prefix><random>`` holding the owner marker. ``private``: mode 0700 (mkdtemp);
    otherwise the usual permissions (a run directory is not private)."""
    parent = Path(parent)
    if private:
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    else:
        for _ in range(100):
            path = parent / f"{prefix}{secrets.token_hex(6)}"
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"cannot create a fresh folder {prefix}* in {parent}")
    (path / MARKER).write_text(json.dumps(_owner()), encoding="utf-8")
    return path


def drop_marker(folder: Path) -> None:
    """Remove the marker before the folder becomes a result (it is then no longer scratch)."""
    with contextlib.suppress(FileNotFoundError):
        (Path(folder) / MARKER).unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or we cannot tell: keep the folder
    return True


def is_stale(folder: Path, now: float | None = None) -> bool:
    """Whether ``folder`` is rexeval's scratch folder (it carries the marker) and its owner is gone."""
    try:
        owner = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
        pid, host, created = int(owner["pid"]), str(owner["host"]), float(owner["created"])
    except (OSError, ValueError, KeyError, TypeError):
        return False  # not ours (or not readable): never removed
    if pid == os.getpid() and host == socket.gethostname():
        return False
    if (now if now is not None else time.time()) - created > STALE_AFTER_S:
        return True
    return host == socket.gethostname() and not _alive(pid)


def remove_stale(parent: Path, prefix: str) -> list[Path]:
    """Remove the stale scratch folders ``parent/<prefix>*`` (see :func:`is_stale`); the ones removed."""
    removed: list[Path] = []
    try:
        candidates = [p for p in Path(parent).iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    for path in candidates:
        if path.is_dir() and not path.is_symlink() and is_stale(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


_ON_EXIT: set[str] = set()
_LOCK = threading.Lock()
_AT_EXIT = False
_ON_SIGNAL = False


def _remove_registered() -> None:
    with _LOCK:
        paths = list(_ON_EXIT)
        _ON_EXIT.clear()
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)


def _on_sigterm(signum: int, frame: object) -> None:
    _remove_registered()
    signal.signal(signum, signal.SIG_DFL)  # then die of the same signal, as without this handler
    os.kill(os.getpid(), signum)


def remove_on_exit(folder: Path) -> None:
    """Remove ``folder`` at exit, also on SIGTERM. The handler is installed only where SIGTERM still has
    its default action (an application's own handler is left alone) and only from the main thread."""
    global _AT_EXIT, _ON_SIGNAL
    with _LOCK:
        _ON_EXIT.add(str(folder))
        if not _AT_EXIT:
            atexit.register(_remove_registered)
            _AT_EXIT = True
    if not _ON_SIGNAL and threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
        _ON_SIGNAL = True
