"""Files at rest are private: the home is 0700 and every file in it 0600, whatever the umask.

The database holds every board key a device has joined and every word of its boards, and the
device key is its identity: no other user of the computer may read them. Files are created
with these modes explicitly (SQLite gives its WAL and shared-memory files the database file's
mode), and a home made by an older Potluck, or under a loose umask, is tightened when opened.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..errors import HomeError

HOME_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = 0o077


@dataclass
class Tightened:
    """What opening a home changed to make it private, and what it could not change."""

    home: Path
    made_private: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def notice(self) -> str | None:
        """One line for the person, or None when the home was private already."""
        if self.failed:
            path, why = self.failed[0]
            more = f" (and {len(self.failed) - 1} more)" if len(self.failed) > 1 else ""
            return (
                f"{path}{more} could not be made private ({why}): "
                "other users of this computer may be able to read your boards"
            )
        if not self.made_private:
            return None
        files = len([p for p in self.made_private if p != self.home])
        them = {0: "", 1: " and 1 file in it"}.get(files, f" and {files} files in it")
        return (
            f"the home {self.home}{them} could be read by other users of this computer; "
            "now only you can read them"
        )


def make_home(path: Path) -> None:
    """Create the home folder (0700) if missing; HomeError, in one line, if it cannot be one."""
    try:
        path.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
    except FileExistsError:
        raise HomeError(
            f"{path} is a file, not a folder: give a folder for the home "
            "(--home or POTLUCK_HOME; a new one is made if missing)"
        ) from None
    except NotADirectoryError:
        raise HomeError(
            f"cannot make the home {path}: part of that path is a file, not a folder"
        ) from None
    except OSError as exc:
        raise HomeError(f"cannot make the home {path}: {reason(exc)}") from None
    if not path.is_dir():
        raise HomeError(f"{path} is not a folder: give a folder for the home")


def tighten(home: Path) -> Tightened:
    """Take every permission of the group and of others from the home and from every file in
    it (0755 becomes 0700, 0644 becomes 0600); symbolic links are left alone."""
    done = Tightened(home)
    _tighten_one(home, done)
    try:
        entries = list(os.scandir(home))
    except OSError as exc:
        done.failed.append((home, reason(exc)))
        return done
    for entry in entries:
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                _tighten_one(Path(entry.path), done)
    return done


def _tighten_one(path: Path, done: Tightened) -> None:
    try:
        current = stat.S_IMODE(os.lstat(path).st_mode)
    except FileNotFoundError:
        return  # removed meanwhile (a node's state file, say)
    except OSError as exc:
        done.failed.append((path, reason(exc)))
        return
    if not current & _OTHERS:
        return
    try:
        os.chmod(path, current & ~_OTHERS)
    except FileNotFoundError:
        return
    except OSError as exc:
        done.failed.append((path, reason(exc)))
        return
    done.made_private.append(path)


def create_private(path: Path) -> None:
    """Create an empty file readable only by its owner, unless it exists; OSError if it cannot
    be made (a read-only disk: the caller finds out when it opens the file). A file opened
    afterwards for appending (a log, say) keeps this mode whatever the umask."""
    if path.exists():
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def open_private(path: Path, mode: str = "a+") -> IO[str]:
    """Open a text file for appending and reading, created 0600 (and made 0600 if it was not);
    HomeError, in one line, if it cannot be (a read-only home)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
    except OSError as exc:
        raise HomeError(f"cannot write {path}: {reason(exc)}") from None
    try:
        _private_fd(fd)
        return os.fdopen(fd, mode)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, text: str) -> None:
    """Write `path` whole (created 0600, or made 0600), as `Path.write_text` does."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        _private_fd(f.fileno())
        f.write(text)


def _private_fd(fd: int) -> None:
    if stat.S_IMODE(os.fstat(fd).st_mode) & _OTHERS:
        os.fchmod(fd, FILE_MODE)


def temporary_beside(target: Path) -> tuple[int, Path]:
    """A new file (0600) in `target`'s folder, to be renamed over it once written whole."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    return fd, Path(name)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename in it survives a power cut (where the OS allows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def reason(exc: OSError) -> str:
    """An OSError in plain words: 'permission denied', 'the disk is read-only', …"""
    words = {
        errno.EACCES: "permission denied",
        errno.EPERM: "not allowed",
        errno.EROFS: "the disk is read-only",
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.ENOENT: "no such file or folder",
        errno.EISDIR: "it is a folder",
        errno.ENOTDIR: "part of the path is not a folder",
        errno.ENAMETOOLONG: "the name is too long",
    }
    return words.get(exc.errno or 0, (exc.strerror or str(exc)).lower())
