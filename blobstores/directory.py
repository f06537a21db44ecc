"""The ``dir`` kind: blobs as sealed files under one directory (local disk, or a mount several hosts share).

``<root>/<first two hex digits>/<sha256>``, in the sealed form of :mod:`blobstores.sealed`. A blob is
written to ``<root>/.incoming/``, fsynced, renamed into place and its directory fsynced, so an
acknowledged blob survives a crash and a half-written one is never under a blob's name.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from . import sealed as sealing
from .api import SHA256, BlobError, Keys, check_name

INCOMING = ".incoming"


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class DirectoryBlobStore:
    """Blobs as sealed files under ``root``."""

    def __init__(self, root: Path, keys: Keys) -> None:
        self.root = Path(root)
        self.ciphers = sealing.Ciphers(keys)

    def path(self, sha256: str) -> Path:
        check_name(sha256)
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, chunks: Iterable[bytes]) -> bool:
        return self._place(sha256, sealing.seal(sha256, chunks, self.ciphers), check=False)

    def put_sealed(self, sha256: str, chunks: Iterable[bytes]) -> bool:
        return self._place(sha256, chunks, check=True)

    def _place(self, sha256: str, pieces: Iterable[bytes], check: bool) -> bool:
        """Write ``pieces`` (a sealed blob) to a temporary file, make it durable, and rename it into place."""
        target = self.path(sha256)
        if target.exists():
            return False
        incoming = self.root / INCOMING
        temporary = incoming / f"{sha256}.{secrets.token_hex(8)}"
        try:
            incoming.mkdir(parents=True, exist_ok=True)
            with temporary.open("xb") as handle:
                for piece in pieces:
                    handle.write(piece)
                handle.flush()
                os.fsync(handle.fileno())
            if check:
                with temporary.open("rb") as handle:
                    sealing.check(sha256, handle.read, self.ciphers)
            target.parent.mkdir(exist_ok=True)
            os.replace(temporary, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            raise BlobError(f"could not write blob {sha256}: {exc.strerror or exc}") from exc
        finally:
            temporary.unlink(missing_ok=True)
        return True

    def _open(self, sha256: str) -> BinaryIO | None:
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            return None

    def stream(self, sha256: str) -> Iterator[bytes] | None:
        handle = self._open(sha256)
        return None if handle is None else sealing.unsealed_from(sha256, handle, self.ciphers)

    def sealed(self, sha256: str) -> Iterator[bytes] | None:
        handle = self._open(sha256)
        return None if handle is None else sealing.pieces_from(handle)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> None:
        path = self.path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(path.parent)

    def collect_leftovers(self, older_than_s: float) -> int:
        """Temporary files of writes a crash cut short (a killed worker): they never became blobs."""
        incoming, removed = self.root / INCOMING, 0
        if not incoming.is_dir():
            return 0
        cutoff = time.time() - older_than_s
        for entry in incoming.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
        return removed

    def names(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for fan in sorted(self.root.iterdir()):
            if len(fan.name) == 2 and fan.is_dir():
                for entry in fan.iterdir():
                    if SHA256.match(entry.name) and entry.name.startswith(fan.name):
                        yield entry.name


class DirectoryKind:
    """Builds directory blob stores from ``file:///path`` URLs."""

    name = "dir"
    schemes = ("file",)

    def build(self, url: str, keys: Keys) -> DirectoryBlobStore:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not parts.path:
            raise ValueError(f"a directory blob store's URL is file:///absolute/path, not {url!r}")
        return DirectoryBlobStore(Path(unquote(parts.path)), keys)


KIND = DirectoryKind()
