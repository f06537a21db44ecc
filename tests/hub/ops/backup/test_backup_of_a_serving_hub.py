"""``hub backup create`` against a serving hub whose audit checkpoints are sound reports no problem (issue 23):
the command opens the PKI as the serving hub does, and agrees with the hub's own ``/api/v1/audit/verify``.

The hub keeps its PKI's keys under a passphrase of its own (``HUB_KEY_PASSPHRASE``), as a production hub
does: the copy of the store the command checks must open them with it, not with one derived from the
secret (which is what printed "software key 'root' cannot be decrypted")."""

from __future__ import annotations

import requests
from testbed import OPERATOR, backup_create


def test_backup_create_on_a_serving_hub_with_sound_checkpoints_prints_no_problem(served_hub_factory, tmp_path):
    passphrase = "correct horse battery staple, kept in the vault"
    source = served_hub_factory(
        HUB_BACKUP_INTERVAL="0", HUB_CHECKPOINT_INTERVAL="0", HUB_KEY_PASSPHRASE=passphrase
    ).start()
    agency = {"code": "market", "name": "Market", "region": "330100"}
    assert requests.post(f"{source.url}/api/v1/agencies", json=agency, headers=OPERATOR, timeout=60).status_code == 201
    for _ in range(2):
        sealed = requests.post(f"{source.url}/api/v1/audit/checkpoints", json={}, headers=OPERATOR, timeout=60)
        assert sealed.status_code in (200, 201), sealed.text
    audit = requests.get(f"{source.url}/api/v1/audit/verify", headers=OPERATOR, timeout=60).json()
    assert audit["intact"] is True and audit["checkpoints"]["count"] == 2, audit

    created = backup_create(source.env, tmp_path)
    assert "problem" not in created.stderr and "warning" not in created.stderr, created.stderr
