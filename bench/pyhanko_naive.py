"""pyHanko used as its documentation shows, with none of the hub's cuts: the baseline issue 21 names.

The in-process side of the licence benchmarks runs the hub's own ``certs`` code, so every cut made there
(the signature's reserved size, parsed revocation data kept per thread) speeds it up as much as the hub.
This is the other baseline: the same B-LT sealing and the same validation written the plain way, each
call building what it needs from the DER it was given — a ``ValidationContext`` over freshly parsed
CRLs and OCSP answers, and a ``PdfSigner`` left to size its signature with a trial one.

``python -m bench.pyhanko_naive [--count N]`` sets the two side by side on one PKI made in memory
(:class:`bench.licences_inprocess.MemoryPki`), in this one process, taking turns licence by licence so
both share the machine's load alike: it prints the median CPU time per licence issued (rendered and
sealed) and per licence verified, each way. The verifications check each side's own PDFs and each
must pass; the PDFs of each side must pass the other side's verification too.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import statistics
import time
from collections.abc import Callable, Sequence

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def validation_context(
    roots: Sequence[bytes], intermediates: Sequence[bytes], crls: Sequence[bytes], ocsps: Sequence[bytes] = ()
) -> ValidationContext:
    """A context over certificates and revocation data parsed from DER, offline, every certificate checked."""
    return ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(der) for der in roots],
        other_certs=[asn1_x509.Certificate.load(der) for der in intermediates],
        crls=[asn1_crl.CertificateList.load(der) for der in crls],
        ocsps=[asn1_ocsp.OCSPResponse.load(der) for der in ocsps],
        allow_fetching=False,
        revocation_mode="hard-fail",
    )


def seal(
    pdf: bytes,
    signer: signers.Signer,
    timestamper: TimeStamper,
    trust: tuple[Sequence[bytes], Sequence[bytes], Sequence[bytes], Sequence[bytes]],
    box: tuple[float, float, float, float],
    reason: str,
    location: str,
) -> bytes:
    """``pdf`` sealed at PAdES B-LT in a new field over ``box`` on page 1; ``trust``: roots, intermediates,
    CRLs and OCSP answers, as DER."""
    metadata = signers.PdfSignatureMetadata(
        field_name="Seal",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        embed_validation_info=True,
        use_pades_lta=False,
        validation_context=validation_context(*trust),
    )
    whole_box = (int(box[0]), int(box[1]), int(box[2]) + 1, int(box[3]) + 1)
    pdf_signer = signers.PdfSigner(
        metadata, signer=signer, timestamper=timestamper, new_field_spec=fields.SigFieldSpec("Seal", box=whole_box)
    )
    return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf))).getvalue()


def verify(pdf: bytes, roots: Sequence[bytes], intermediates: Sequence[bytes], crls: Sequence[bytes]) -> bool:
    """Whether ``pdf`` has signatures and every one passes pyHanko's validation (its chain, revocation and
    timestamp included) against the given trust, as DER."""
    reader = PdfFileReader(io.BytesIO(pdf))
    statuses = [
        validate_pdf_signature(
            signature,
            validation_context(roots, intermediates, crls),
            ts_validation_context=validation_context(roots, intermediates, crls),
        )
        for signature in reader.embedded_signatures
    ]
    return bool(statuses) and all(status.bottom_line for status in statuses)


def _cpu_ms(work: Callable[[], object]) -> tuple[float, object]:
    started = time.process_time()
    result = work()
    return (time.process_time() - started) * 1000, result


def main(argv: list[str] | None = None) -> int:
    """Print the CPU time per licence of the hub's certs code and of plain pyHanko; the exit status."""
    from certs import numbering
    from certs.tsa import InProcessTimeStamper

    from .licences_inprocess import LicenceKind, MemoryPki, asn1_certificate, verify_from_der
    from .licences_load import AGENCY_NAME, LABELS, REGION, TYPE_CODE, TYPE_NAME, request_bodies

    parser = argparse.ArgumentParser(prog="python -m bench.pyhanko_naive", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="licences issued and verified each way")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # pyHanko warns on every seal that fetching is off
    kind = LicenceKind(TYPE_CODE, *TYPE_NAME, LABELS, AGENCY_NAME, REGION, "http://127.0.0.1:9")
    pki = MemoryPki(AGENCY_NAME, REGION)
    holder_id = "91330100MA2H7K3P23"
    body = json.loads(json.dumps(request_bodies()[0]).replace("@ID@", holder_id))
    roots, intermediates = [root.dump() for root in pki.roots], [ca.dump() for ca in pki.intermediates]
    trust = (roots, intermediates, pki.crls, pki.ocsp_responses)

    def plain(number: str) -> bytes:
        from certs.render import render_licence

        rendered = render_licence(kind.document(number, body["holder"], body["fields"]))
        signer = pki.seal_key.cms_signer(asn1_certificate(pki.seal), [asn1_certificate(pki.issuing)])
        stamper = InProcessTimeStamper(pki.tsa_authority)
        return seal(rendered.pdf, signer, stamper, trust, rendered.seal_box, f"电子证照 {number}", kind.agency_name)

    sides: dict[str, tuple[Callable[[str], bytes], Callable[..., bool]]] = {
        "hub's certs": (lambda number: pki.issue(kind, number, body["holder"], body["fields"]), verify_from_der),
        "plain pyHanko": (plain, verify),
    }
    spent: dict[str, dict[str, list[float]]] = {side: {"issue": [], "verify": []} for side in sides}
    for n in range(args.count + 2):  # the first of each side is left out: it makes what later ones reuse
        for side, (issue, check) in sides.items():
            number = numbering.make_number(kind.code, kind.region, 2026, n + 1)
            issue_ms, pdf = _cpu_ms(lambda: issue(number))  # noqa: B023 - called at once
            verify_ms, valid = _cpu_ms(lambda: check(pdf, roots, intermediates, pki.crls))  # noqa: B023
            other = next(other_check for name, (_, other_check) in sides.items() if name != side)
            if not (valid and other(pdf, roots, intermediates, pki.crls)):
                print(f"{side}: licence {number} did not verify")
                return 1
            if n >= 2:
                spent[side]["issue"].append(issue_ms)
                spent[side]["verify"].append(verify_ms)
    for side, figures in spent.items():
        print(
            f"{side}: issue {statistics.median(figures['issue']):.1f} ms,"
            f" verify {statistics.median(figures['verify']):.1f} ms of CPU per licence (median of {args.count})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
