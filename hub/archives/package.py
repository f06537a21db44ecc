"""One case's archive package: a zip of its files, ``manifest.json`` and ``manifest.json.p7s``.

The manifest lists every file with its SHA-256 (``files``, the public contract), its size and media
type (``entries``), and the archive's metadata; ``SHA256SUMS`` repeats the digests in the format
``sha256sum -c`` reads, and is itself listed in the manifest. The manifest is signed by a detached
CMS signature (the caller's ``sign``, the hub's archive seal with a timestamp), so the package
checks out with ``openssl cms -verify`` and ``sha256sum`` alone. :func:`check` does the same in
Python and names every file that was changed, added or removed.

The zip is deterministic for given files and time: entries in path order, one timestamp, JSON
deflated, PDFs and images stored as they are (they are compressed already). It is written to a file
the caller gives, each member a piece at a time as its source yields it, so an upload of 20 MB and
the package holding it never sit whole in a worker; every member is checked against its digest as
it is written.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from certs.cms import DetachedReport, NotASignature

FORMAT = "hub-archive/1"
MANIFEST, SIGNATURE, SUMS = "manifest.json", "manifest.json.p7s", "SHA256SUMS"
COMPRESSED_ALREADY = {"application/pdf", "application/ofd", "image/jpeg", "image/png", "application/zip"}
# A package is never this large; a zip claiming more is refused before anything is inflated.
MAX_UNPACKED_BYTES = 2 * 1024**3
READ_BYTES = 64 * 1024


class ContentChanged(ValueError):
    """A file's content is not the content its digest names."""


@dataclass(frozen=True)
class CaseFile:
    """One file of a case package: its digest, and where its content comes from when it is zipped."""

    path: str
    media_type: str
    sha256: str
    chunks: Callable[[], Iterable[bytes]]

    @classmethod
    def of(cls, path: str, content: bytes, media_type: str) -> CaseFile:
        """A file whose content is at hand."""
        return cls(path, media_type, _sha256(content), lambda: [content])


@dataclass(frozen=True)
class Package:
    """A built package: what identifies it (its zip is in the file it was written to)."""

    sha256: str
    size: int
    manifest: dict[str, Any]
    manifest_sha256: str


def canonical_json(value: Any) -> bytes:
    """JSON as the packages hold it: UTF-8, keys sorted, indented (readable in any text editor)."""
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()


def json_file(path: str, value: Any) -> CaseFile:
    return CaseFile.of(path, canonical_json(value), "application/json")


def build(
    files: list[CaseFile], metadata: dict[str, Any], at: datetime, sign: Callable[[bytes], bytes], out: IO[bytes]
) -> Package:
    """Zip ``files`` into ``out`` (seekable, empty) with their manifest (carrying ``metadata``) and its
    detached signature. ContentChanged if a file's content does not match its digest."""
    paths = [f.path for f in files]
    if len(paths) != len(set(paths)) or {MANIFEST, SIGNATURE, SUMS} & set(paths):
        raise ValueError("package paths must be unique and not reserved")
    sums = "".join(f"{f.sha256}  {f.path}\n" for f in sorted(files, key=lambda f: f.path))
    listed = sorted([*files, CaseFile.of(SUMS, sums.encode(), "text/plain")], key=lambda f: f.path)
    stamp = at.timetuple()[:6]
    with zipfile.ZipFile(out, "w") as archive:
        sizes = [_write(archive, f, stamp) for f in listed]
        manifest = {
            "format": FORMAT,
            "files": {f.path: f.sha256 for f in listed},
            "entries": [
                {"path": f.path, "sha256": f.sha256, "size": size, "media_type": f.media_type}
                for f, size in zip(listed, sizes, strict=True)
            ],
            "archive": metadata,
        }
        manifest_bytes = canonical_json(manifest)
        _write(archive, CaseFile.of(MANIFEST, manifest_bytes, "application/json"), stamp)
        _write(archive, CaseFile.of(SIGNATURE, sign(manifest_bytes), "application/pkcs7-signature"), stamp)
    digest, size = _digest_of(out)
    return Package(digest, size, manifest, _sha256(manifest_bytes))


def _write(archive: zipfile.ZipFile, case_file: CaseFile, stamp: tuple[int, ...]) -> int:
    """Add one member, a piece at a time, checking it against its digest; its size."""
    info = zipfile.ZipInfo(case_file.path, date_time=stamp)  # type: ignore[arg-type]
    stored = case_file.media_type in COMPRESSED_ALREADY
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    digest, size = hashlib.sha256(), 0
    with archive.open(info, "w") as member:
        for chunk in case_file.chunks():
            digest.update(chunk)
            size += len(chunk)
            member.write(chunk)
    if digest.hexdigest() != case_file.sha256:
        raise ContentChanged(f"{case_file.path}: its content does not match its digest")
    return size


def _digest_of(out: IO[bytes]) -> tuple[str, int]:
    out.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: out.read(READ_BYTES), b""):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass
class CheckReport:
    """What :func:`check` found: the seal's verdict and every file that does not match the manifest."""

    case: str | None = None
    signature: DetachedReport | None = None
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        files_ok = not (self.changed or self.added or self.removed or self.problems)
        return files_ok and self.signature is not None and self.signature.valid

    def lines(self) -> list[str]:
        """The findings in plain words, one per line."""
        out = [f"case: {self.case or 'unknown'}"]
        if self.signature is not None:
            verdict = "valid" if self.signature.valid else "NOT valid"
            when = self.signature.timestamp.isoformat() if self.signature.timestamp else "no trusted time"
            out.append(f"manifest signature: {verdict} ({self.signature.signer}; timestamp {when})")
            out += [f"  {problem}" for problem in self.signature.problems]
        out += [f"changed: {path}" for path in self.changed]
        out += [f"added (not in the manifest): {path}" for path in self.added]
        out += [f"removed (listed, missing): {path}" for path in self.removed]
        out += self.problems
        out.append("package: VALID" if self.valid else "package: NOT VALID")
        return out


def check(content: bytes | IO[bytes], verify: Callable[[bytes, bytes], DetachedReport]) -> CheckReport:
    """Check a package (its bytes, or a seekable file): the manifest's signature (by ``verify``) and every
    file against the manifest."""
    report = CheckReport()
    try:
        archive = zipfile.ZipFile(io.BytesIO(content) if isinstance(content, bytes) else content)
        members = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        if sum(info.file_size for info in members.values()) > MAX_UNPACKED_BYTES:
            report.problems.append("the zip claims to unpack to more than any package holds")
            return report
        manifest_bytes = archive.read(MANIFEST) if MANIFEST in members else None
        signature = archive.read(SIGNATURE) if SIGNATURE in members else None
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        report.problems.append(f"not a readable zip: {error}")
        return report
    if manifest_bytes is None or signature is None:
        report.problems.append(f"{MANIFEST} or {SIGNATURE} is missing")
        return report
    try:
        report.signature = verify(manifest_bytes, signature)
    except NotASignature as error:
        report.problems.append(f"{SIGNATURE}: {error}")
    try:
        manifest = json.loads(manifest_bytes)
        listed: dict[str, str] = manifest["files"]
        report.case = manifest.get("archive", {}).get("case")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        report.problems.append(f"{MANIFEST} is not a package manifest: {error}")
        return report
    _compare_files(archive, members, listed, report)
    return report


def _compare_files(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], listed: dict[str, str], report: CheckReport
) -> None:
    present = set(members) - {MANIFEST, SIGNATURE}
    report.removed = sorted(set(listed) - present)
    report.added = sorted(present - set(listed))
    for path in sorted(present & set(listed)):
        try:
            digest = _member_digest(archive, path)
        except (zipfile.BadZipFile, OSError, ValueError):  # a damaged member (its CRC no longer matches)
            digest = None
        if digest != listed[path]:
            report.changed.append(path)


def _member_digest(archive: zipfile.ZipFile, path: str) -> str:
    digest = hashlib.sha256()
    with archive.open(path) as member:
        for chunk in iter(lambda: member.read(READ_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()
