"""Backups made, checked and restored with the real parts: the bundled Redis, the hub's PKI, the CLI."""

from __future__ import annotations

import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from asn1crypto import cms
from testbed import LICENCE_HOLDER

from hub.ops import backup, integrity
from hub.store import keys
from hub.store.client import Store

HOLDER = LICENCE_HOLDER


@pytest.fixture
def issuer(registry) -> dict:
    """The ``market`` agency with a licence type it issues; its agency token's headers."""
    registry.agency("market", region="330100")
    registry.licence_type("biz-licence", issuer="market")
    return registry.token("market", "agency")


@pytest.fixture
def licence(client, issuer) -> dict:
    body = {"type": "biz-licence", "holder": HOLDER, "fields": {"holder": "shop"}}
    response = client.post("/api/v1/licences", json=body, headers=issuer)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def state(app):
    return app.extensions["hub"]


@pytest.fixture
def made(state, licence, tmp_path) -> Path:
    """A backup of a hub holding an agency, a licence type and one licence."""
    return backup.create(state, tmp_path / "backups")


def test_round_trip_through_the_cli(hub_cli, licence, settings, tmp_path):
    directory = tmp_path / "backups"
    created = hub_cli("backup", "create", "--dir", str(directory), check=True)
    path = Path(created.stdout.strip())
    assert path.parent == directory and path.name.startswith("hub-backup-") and path.suffix == ".tar"
    assert [p.name for p in directory.iterdir()] == [path.name]  # no temporary file left behind

    checked = hub_cli("backup", "verify", str(path), "--require-seal", check=True)
    assert "FAIL" not in checked.stdout
    assert {"ok   manifest", "ok   seal", "ok   snapshot", "ok   contents", "ok   integrity"} <= {
        line.split(":")[0] for line in checked.stdout.splitlines()
    }
    assert path.name in hub_cli("backup", "list", "--dir", str(directory), check=True).stdout

    target = tmp_path / "restored"
    secret = settings.data_dir / "secret.key"
    restored = hub_cli("backup", "restore", str(path), "--data-dir", str(target), "--secret-key-file", str(secret))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "ok   seal" in restored.stdout and "ok   integrity" in restored.stdout

    # The embedded server on the restored directory has the data, and keeps new writes (append-only on).
    restored_settings = replace(settings, data_dir=target)
    store = Store(restored_settings)
    try:
        number_key = store.index_page(keys.licence_index("biz-licence"), None, 10)
        record = store.get_many_json([keys.licence("biz-licence", n) for n in number_key])[0]
        assert record["number"] == licence["number"] and store.document(record["sha256"])  # the PDF came back
        assert integrity.check(store).intact
        store.set_json("hub:{reg}:after-restore", {"kept": True})
    finally:
        assert store.stop_embedded_if_last()
    store = Store(restored_settings)
    try:
        assert store.get_json("hub:{reg}:after-restore") == {"kept": True}
    finally:
        store.stop_embedded_if_last()


def test_manifest_describes_the_snapshot(made, licence):
    manifest = backup.read_manifest(made)
    assert manifest["format"] == backup.FORMAT and manifest["kind"] == backup.MANUAL
    assert manifest["counts"]["licences"] == 1 and manifest["counts"]["blobs"] == 1
    assert manifest["counts"]["audit_entries"] >= 4  # agency, type, token, licence (and the PKI's own)
    assert manifest["problems"] == []
    assert set(manifest["snapshot"]) >= {"sha256", "size", "rdb_sha256", "rdb_size"}
    assert manifest["audit_heads"][keys.licence_partition("biz-licence")]["seq"] >= 1
    (pdf,) = manifest["documents"]  # the licence's PDF, sealed as the blob store keeps it
    with tarfile.open(made) as archive:
        assert archive.getnames() == [backup.MANIFEST, backup.SIGNATURE, backup.SNAPSHOT, f"documents/{pdf}"]
        assert b"%PDF" not in archive.extractfile(f"documents/{pdf}").read()


def _flip_byte(source: Path, target: Path, member: str, at: int) -> None:
    """Copy ``source`` to ``target`` with one byte of ``member``'s content changed."""
    with tarfile.open(source) as archive:
        offset = archive.getmember(member).offset_data
    content = bytearray(source.read_bytes())
    content[offset + at] ^= 0x01
    target.write_bytes(bytes(content))


def _signature_value_at(path: Path) -> int:
    """Where the signer's signature value sits inside the CMS member (a byte certificates do not cover)."""
    with tarfile.open(path) as archive:
        der = archive.extractfile(backup.SIGNATURE).read()
    value = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
    return der.index(value) + len(value) // 2


@pytest.mark.parametrize(
    ("member", "at", "failing"),
    [
        (backup.SNAPSHOT, 200, "snapshot"),  # inside the compressed snapshot
        (backup.MANIFEST, 40, "seal"),  # a changed manifest no longer matches its seal
        (backup.SIGNATURE, None, "seal"),  # the signature value itself
    ],
)
def test_verify_catches_a_changed_byte(state, made, tmp_path, member, at, failing):
    assert backup.verify(made, backup.hub_pki(state), state.settings).ok
    tampered = tmp_path / "tampered.tar"
    _flip_byte(made, tampered, member, _signature_value_at(made) if at is None else at)
    result = backup.verify(tampered, backup.hub_pki(state), state.settings)
    assert not result.ok
    assert failing in {check.name for check in result.checks if check.ok is False}


def test_a_changed_manifest_that_still_parses_is_caught(state, made, tmp_path):
    with tarfile.open(made) as archive:
        manifest = archive.extractfile(backup.MANIFEST).read()
    position = manifest.index(b'"licences": 1') + len(b'"licences": ')
    tampered = tmp_path / "tampered.tar"
    _flip_byte(made, tampered, backup.MANIFEST, position)  # "1" becomes "0": still JSON, still a number
    result = backup.verify(tampered, backup.hub_pki(state), state.settings)
    assert {check.name for check in result.checks if check.ok is False} == {"seal", "contents"}


def test_verify_without_a_pki_reports_the_seal_unchecked(state, made):
    result = backup.verify(made, None, state.settings)
    assert result.ok
    assert [check.ok for check in result.checks if check.name == "seal"] == [None]


def test_restore_refuses_a_non_empty_directory(hub_cli, made, tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    result = hub_cli("backup", "restore", str(made), "--data-dir", str(target))
    assert result.returncode != 0
    assert "not an empty directory" in result.stderr and "Traceback" not in result.stderr
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_restore_of_a_damaged_backup_leaves_the_directory_empty(hub_cli, made, tmp_path):
    damaged = tmp_path / "damaged.tar"
    _flip_byte(made, damaged, backup.SNAPSHOT, 100)
    target = tmp_path / "restored"
    result = hub_cli("backup", "restore", str(damaged), "--data-dir", str(target))
    assert result.returncode != 0 and "damaged" in result.stderr
    assert list(target.iterdir()) == []


def test_a_snapshot_redis_cannot_load_is_refused(tmp_path):
    (tmp_path / "dump.rdb").write_bytes(b"REDIS0009" + b"\x00" * 64)
    with pytest.raises(backup.BackupError, match="does not load"):
        with backup.scratch_server(tmp_path):
            pass


def test_prune_keeps_the_newest_scheduled_and_every_manual_backup(state, tmp_path):
    made = [backup.create(state, tmp_path, kind) for kind in ("scheduled", "manual", "scheduled", "scheduled")]
    deleted = backup.prune(tmp_path, keep=2)
    assert deleted == [made[0]]
    assert sorted(tmp_path.glob("hub-backup-*.tar")) == made[1:]


@pytest.mark.parametrize("command", ["create", "verify", "restore", "list"])
def test_each_command_explains_itself(hub_cli, command):
    result = hub_cli("backup", command, "--help", check=True)
    assert "Usage: hub backup " + command in result.stdout


def test_verify_of_something_else_fails_in_plain_words(hub_cli, tmp_path):
    stranger = tmp_path / "hub-backup-stranger.tar"
    stranger.write_bytes(b"not a tar at all" * 100)
    result = hub_cli("backup", "verify", str(stranger))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "FAIL file: not a readable backup" in result.stdout
    listed = hub_cli("backup", "list", "--dir", str(tmp_path), check=True)
    assert "hub-backup-stranger.tar  (unreadable)" in listed.stdout
