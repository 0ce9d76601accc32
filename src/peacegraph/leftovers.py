"""Temporary folders beside an output (a dist/ being written, a store being loaded) that a crash
can leave behind, each as large as the output itself; and the small temporary files a record is
written through before it replaces the old one.

A process claims such a folder with an exclusive lock on a file inside it for as long as it works
in it; the kernel drops the lock when the process dies, however it dies. At the next build or
start, a folder of the same kind whose lock nobody holds belongs to no live process and is
removed. A folder without a lock file is removed only once it is older than UNCLAIMED_GRACE: it is
either from a crash before it was claimed, or one that a live process is just creating or
renaming into place.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

LOCK_NAME = ".peacegraph-owner"
UNCLAIMED_GRACE = 600.0


class Claim:
    """The lock that marks a temporary folder as in use by this process."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._fd: int | None = os.open(self.folder / LOCK_NAME,
                                       os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        """Remove the lock file (before the folder is renamed into place) and drop the lock."""
        if self._fd is None:
            return
        try:
            os.unlink(self.folder / LOCK_NAME)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None


def claimed_temp_folder(parent: Path, prefix: str) -> tuple[Path, Claim]:
    """A new folder `parent/prefix*`, claimed by this process."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        return folder, Claim(folder)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _is_stale(folder: Path, now: float) -> bool:
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        try:
            return now - folder.stat().st_mtime > UNCLAIMED_GRACE
        except OSError:
            return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def _entries(parent: Path) -> list[Path]:
    """The entries of a folder; none when it cannot be listed (gone, or not readable)."""
    try:
        return list(Path(parent).iterdir())
    except OSError:
        return []


def remove_stale(parent: Path, prefixes: tuple[str, ...]) -> list[Path]:
    """Remove the folders of `parent` whose names start with one of `prefixes` and that no live
    process claims; returns the removed ones."""
    removed = []
    now = time.time()
    for entry in _entries(parent):
        if not entry.name.startswith(prefixes) or entry.is_symlink() or not entry.is_dir():
            continue
        if _is_stale(entry, now):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def remove_stale_files(parent: Path, prefix: str) -> list[Path]:
    """Remove the plain files of `parent` whose names start with `prefix` and that are older than
    UNCLAIMED_GRACE; returns the removed ones. Such a file lives for the milliseconds it takes to
    write and rename it, so one that old is what a killed process left."""
    removed = []
    now = time.time()
    for entry in _entries(parent):
        if not entry.name.startswith(prefix) or entry.is_symlink() or not entry.is_file():
            continue
        try:
            if now - entry.stat().st_mtime > UNCLAIMED_GRACE:
                entry.unlink()
                removed.append(entry)
        except OSError:
            pass
    return removed
