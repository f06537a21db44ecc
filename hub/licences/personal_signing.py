"""Remote signing for a person (Art. 11), as the Cloud Signature Consortium's API describes it: the hub holds the
signing key for the moment of one signature, on behalf of a person whose identity the province's identity service
verified and who confirmed what they sign.

Each signature gets a fresh EC P-256 key, generated in memory and never stored, and a certificate from the
hub's issuing CA (profile ``person``) valid for ``CERTIFICATE_MINUTES``: its subject is the person's name, and
its serialNumber a pseudonym (the identifier's type and the start of the person's keyed subject hash), so
neither the certificate nor the PKI's records carry the identifier itself. The PDF is signed at PAdES B-LT
(B-T with its validation data: the hub's CRLs and a timestamp from its TSA); the issuance is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from certs import authority
from certs.authority import Profile
from certs.pades import SealRequest, seal_pdf
from certs.softkey import SoftKey
from hub.audit import log as audit
from hub.context import Context, now
from hub.licences.certificate_forms import as_asn1
from hub.store import keys

if TYPE_CHECKING:
    from hub.state import HubState

CERTIFICATE_MINUTES = 60


def sign_for(state: HubState, ctx: Context, person: dict[str, Any], pdf: bytes, request: SealRequest) -> bytes:
    """``pdf`` signed for ``person`` (``name``, ``id_type``, ``subject_hash``) under a certificate made for it."""
    key = ec.generate_private_key(ec.SECP256R1())
    moment = now()
    pseudonym = f"{person['id_type']}:{person['subject_hash'][:32]}"
    serial = x509.random_serial_number()
    certificate = authority.issue(
        state.pki.issuer(),
        Profile.PERSON,
        authority.name(person["name"], serial=pseudonym),
        key.public_key(),
        moment,
        serial,
        not_after=moment + dt.timedelta(minutes=CERTIFICATE_MINUTES),
    )
    signer = SoftKey(key).cms_signer(as_asn1(certificate), [as_asn1(state.pki.authority.issuing)])
    signed = seal_pdf(pdf, signer, state.pki.timestamper(), state.pki.verification_trust(), request)
    detail = {"serial": format(serial, "x"), "subject": person["subject_hash"], "valid_minutes": CERTIFICATE_MINUTES}
    state.store.atomic(lambda tx: audit.append(tx, keys.PKI, ctx, "person.certificate", f"person:{pseudonym}", detail))
    return signed
