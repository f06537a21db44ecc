"""Electronic signatures on what applicants upload (Art. 11): a PDF that carries signatures is verified as it
arrives, and the caseworker sees each signature's verdict: who signed, when, whether the document is
intact since, and whether the signer's certificate leads to a root the hub trusts (its own, and the
anchors the operator imported).

The upload is copied to an unnamed temporary file a chunk at a time, and a verifier process
(:class:`hub.licences.verification.Verifier`, with its time and memory caps) reads it from there: the
web worker never holds the file whole.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from hub.errors import HubError
from hub.intake.uploads import chunks

if TYPE_CHECKING:
    from hub.state import HubState


def of_upload(state: HubState, upload: BinaryIO) -> list[dict[str, Any]]:
    """The verdict on each signature of an uploaded PDF (a report the verifier could not make is one line
    saying why); the upload is put back at its start."""
    with tempfile.NamedTemporaryFile(prefix="hub-signed-") as copy:
        for chunk in chunks(upload):
            copy.write(chunk)
        copy.flush()
        upload.seek(0)
        try:
            report = state.verifier.report(Path(copy.name), state.pki.verification_trust())
        except HubError as error:
            return [{"kind": "signature", "indication": "indeterminate", "problem": error.detail}]
    return [_summary(signature) for signature in report["signatures"]]


def _summary(signature: dict[str, Any]) -> dict[str, Any]:
    checks = signature.get("checks") or {}
    intact = (checks.get("integrity") or {}).get("outcome") == "passed"
    trusted = (checks.get("signer_chain") or {}).get("outcome") == "passed"
    signer = signature.get("signer") or {}
    return {
        "kind": signature["kind"],
        "signer": signer.get("common_name") or signer.get("organization") or "",
        "signed_at": signature.get("timestamp") or signature.get("claimed_signing_time"),
        "timestamped": signature.get("timestamp") is not None,
        "intact": intact,
        "trusted": trusted,
        "indication": signature["indication"],
        "problem": signature.get("sub_indication"),
    }
