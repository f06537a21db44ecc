"""The in-process side of the licence benchmarks: pyHanko issuing and verifying licences with no server.

A pool of :data:`~bench.processes.WORKERS` processes, started once, runs timed rounds: in each, every
process runs its share of the concurrent jobs as threads (at most :data:`~bench.processes.THREADS`, as
a gunicorn worker has), all starting at one moment and counting the jobs that finish within the
round. Issuing is what ``hub.licences.issue`` asks of ``certs``: render the licence
(``certs.render.render_licence``) and seal it at PAdES B-LT (``certs.pades.seal_pdf``) with a seal, a
TSA and validation data of a PKI made in memory with ``certs.authority`` like the hub's (EC P-384 CAs,
P-256 seal and TSA, CRLs and OCSP answers made once, as the hub caches them). Verifying is what a hub
verifier process does: ``certs.verify.verify_pdf`` with trust material rebuilt from DER.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from certs import authority, numbering
from certs.authority import CertificateStatus, Issuer, Profile
from certs.pades import SealRequest, TrustMaterial, seal_pdf
from certs.render import LicenceDocument, render_licence
from certs.softkey import SoftKey
from certs.tsa import InProcessTimeStamper, TimeStampAuthority
from certs.verify import Indication, verify_pdf
from hub.identifiers import with_check_characters

from . import wrk

ORGANISATION = "Provincial Government Service Platform"


def asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    """``certificate`` as asn1crypto's, which pyHanko takes."""
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@dataclass(frozen=True)
class LicenceKind:
    """The licence type and issuing agency both sides issue, and how a request body becomes a document."""

    code: str
    name_zh: str
    name_en: str
    labels: dict[str, str]  # field name -> printed label, in the type's order
    agency_name: str
    region: str
    base_url: str  # the hub's public address: the base of the QR link

    def document(self, number: str, holder: dict[str, str], values: dict[str, str]) -> LicenceDocument:
        """The printed licence for one request, as ``hub.licences`` lays it out."""
        from hub.licences.register import mask_id

        issued_on = dt.date.today()
        return LicenceDocument(
            number=number,
            title=self.name_zh,
            title_en=self.name_en,
            holder_name=holder["name"],
            holder_id=mask_id(holder["id"]),
            fields=[(label, values[name]) for name, label in self.labels.items() if name in values],
            issued_on=issued_on,
            valid_until=issued_on + dt.timedelta(days=1825),
            issuer_name=self.agency_name,
            issuer_region=self.region,
            verify_url=f"{self.base_url}/verify/{number}",
        )


class MemoryPki:
    """Root, issuing CA, TSA, OCSP responder and one agency seal, keys in memory, made with ``certs.authority``."""

    def __init__(self, seal_name: str, region: str) -> None:
        moment = dt.datetime.now(dt.UTC)
        urls = authority.PublicUrls("http://127.0.0.1:9")
        root_key = ec.generate_private_key(ec.SECP384R1())
        root = authority.self_signed_root(authority.name("Bench Root CA", ORGANISATION), root_key, moment, 1)
        root_issuer = Issuer(root, root_key, "root", urls)
        issuing_key = ec.generate_private_key(ec.SECP384R1())
        issuing = authority.issue(
            root_issuer,
            Profile.ISSUING,
            authority.name("Bench Issuing CA", ORGANISATION),
            issuing_key.public_key(),
            moment,
            2,
        )
        issuer = Issuer(issuing, issuing_key, "issuing", urls)

        def leaf(profile: Profile, subject: x509.Name) -> tuple[SoftKey, x509.Certificate]:
            key = SoftKey(ec.generate_private_key(ec.SECP256R1()))
            return key, authority.issue(issuer, profile, subject, key.public_key(), moment, x509.random_serial_number())

        tsa_key, tsa = leaf(Profile.TSA, authority.name("Bench Time-Stamping Authority", ORGANISATION))
        ocsp_key, ocsp = leaf(Profile.OCSP, authority.name("Bench OCSP Responder", ORGANISATION))
        self.seal_key, self.seal = leaf(Profile.SEAL, authority.name(seal_name, seal_name, region, "bench-market"))
        self.issuing = issuing
        self.tsa_authority = TimeStampAuthority(
            tsa_key.cms_signer(asn1_certificate(tsa), [asn1_certificate(issuing)]),
            asn1_certificate(tsa),
            lambda: dt.datetime.now(dt.UTC),
        )
        serial = int(moment.timestamp() * 1000)
        responder = authority.OcspResponder(issuing, ocsp, ocsp_key.private_key)  # type: ignore[arg-type]
        self.roots = [asn1_certificate(root)]
        self.intermediates = [asn1_certificate(issuing)]
        self.crls = [
            authority.crl(issuer, [], moment, serial, dt.timedelta(days=1)),
            authority.crl(root_issuer, [], moment, serial, dt.timedelta(days=1)),
        ]
        self.ocsp_responses = [
            responder.status_response(certificate.serial_number, CertificateStatus(known=True), moment)
            for certificate in (self.seal, tsa)
        ]

    def sealing_trust(self) -> TrustMaterial:
        """What ``seal_pdf`` embeds and validates the chains against."""
        return TrustMaterial(self.roots, self.intermediates, self.crls, self.ocsp_responses)

    def verification_trust(self) -> TrustMaterial:
        """What a verifier trusts: the root, the issuing CA and the CRLs."""
        return TrustMaterial(self.roots, self.intermediates, self.crls)

    def issue(self, kind: LicenceKind, number: str, holder: dict[str, str], values: dict[str, str]) -> bytes:
        """One licence rendered and sealed, as ``hub.licences.issue`` has ``certs`` do it."""
        rendered = render_licence(kind.document(number, holder, values))
        return seal_pdf(
            rendered.pdf,
            self.seal_key.cms_signer(asn1_certificate(self.seal), [asn1_certificate(self.issuing)]),
            InProcessTimeStamper(self.tsa_authority),
            self.sealing_trust(),
            SealRequest(
                field_name="Seal", box=rendered.seal_box, reason=f"电子证照 {number}", location=kind.agency_name
            ),
        )


def verify_from_der(pdf: bytes, roots: list[bytes], intermediates: list[bytes], crls: list[bytes]) -> bool:
    """Verify ``pdf`` as a hub verifier process does (trust rebuilt from DER); whether every signature passed."""
    trust = TrustMaterial(
        roots=[asn1_x509.Certificate.load(der) for der in roots],
        intermediates=[asn1_x509.Certificate.load(der) for der in intermediates],
        crls=crls,
    )
    report = verify_pdf(pdf, trust)
    return bool(report.signatures) and all(s.indication is Indication.PASSED for s in report.signatures)


# -- the jobs of one round, run in a pool process
@dataclass(frozen=True)
class IssueWork:
    """Licences to issue: request bodies to rotate over, ``@ID@`` standing for each one's holder id."""

    kind: LicenceKind
    bodies: list[dict[str, object]]


@dataclass(frozen=True)
class VerifyWork:
    """PDFs to verify, rotated over, against the hub's trust material (DER)."""

    paths: list[str]
    roots: list[bytes]
    intermediates: list[bytes]
    crls: list[bytes]


@dataclass(frozen=True)
class Share:
    """One process's part of a round: its index, its threads, and when (wall clock) the round starts and ends."""

    slot: int
    threads: int
    jobs_in_flight: int  # of the whole round, to interleave the work items
    start_at: float
    seconds: float


@dataclass
class ShareResult:
    """What one process did in a round."""

    pid: int
    latencies: list[float] = field(default_factory=list)  # seconds, of the jobs that finished in the round
    failures: int = 0
    jobs_done: int = 0  # with the ones still running at the end of the round, finished after it
    cpu_seconds: float = 0.0  # of the whole process, until its last job finished


@cache
def _pki(agency_name: str, region: str) -> MemoryPki:
    return MemoryPki(agency_name, region)


@cache
def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def _holder_id(slot: int, thread: int, count: int) -> str:
    return with_check_characters("credit-code", f"91330100{slot}{thread}{count:06d}")


def run_share(work: IssueWork | VerifyWork, share: Share) -> ShareResult:
    """Run this process's threads from ``share.start_at`` for ``share.seconds``; each job timed."""
    logging.disable(logging.WARNING)  # pyHanko warns on every seal that fetching is off; the hub logs it to a file
    result = ShareResult(os.getpid())
    lock = threading.Lock()
    deadline = share.start_at + share.seconds

    def one_thread(thread: int) -> None:
        lane = share.slot * share.threads + thread  # this job's place among all jobs in flight
        count = 0
        while time.time() < deadline:
            started = time.perf_counter()
            ok = _one_job(work, share, thread, lane + count * share.jobs_in_flight, count)
            elapsed = time.perf_counter() - started
            count += 1
            with lock:
                result.jobs_done += 1
                result.failures += not ok
                if time.time() <= deadline:
                    result.latencies.append(elapsed)

    threads = [threading.Thread(target=one_thread, args=(n,)) for n in range(share.threads)]
    time.sleep(max(0.0, share.start_at - time.time()))
    cpu_before = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.cpu_seconds = time.process_time() - cpu_before
    return result


def _serve(pipe: Connection) -> None:
    """A pool process: run each share sent down ``pipe`` and send back its result (or its exception)."""
    while (message := pipe.recv()) is not None:
        try:
            pipe.send(run_share(*message))
        except Exception as error:  # handed to the parent, which raises it
            pipe.send(error)


def _one_job(work: IssueWork | VerifyWork, share: Share, thread: int, index: int, count: int) -> bool:
    if isinstance(work, VerifyWork):
        pdf = _read(work.paths[index % len(work.paths)])
        return verify_from_der(pdf, work.roots, work.intermediates, work.crls)
    kind = work.kind
    body = work.bodies[index % len(work.bodies)]
    request = json.loads(json.dumps(body).replace("@ID@", _holder_id(share.slot, thread, count)))
    number = numbering.make_number(kind.code, kind.region, dt.date.today().year, index + 1)
    sealed = _pki(kind.agency_name, kind.region).issue(kind, number, request["holder"], request["fields"])
    return sealed.startswith(b"%PDF-")


@dataclass(frozen=True)
class RoundOutcome:
    """One in-process round: its figures as wrk reports a run, jobs that failed, and CPU time per job."""

    figures: wrk.WrkResult
    failures: int
    cpu_ms_per_job: float


class InProcess:
    """The processes the in-process rounds run on, one pipe each; a context manager that stops them."""

    def __init__(self, processes: int, threads_per_process: int) -> None:
        self.threads_per_process = threads_per_process
        context = get_context("spawn")  # a fresh interpreter, like a gunicorn worker, with nothing of this one's
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []
        for _ in range(processes):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            self._pipes.append(ours)
            self._processes.append(process)

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        for pipe in self._pipes:
            try:
                pipe.send(None)
            except OSError:
                pass  # it is gone already
        for process in self._processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()

    def round(self, work: IssueWork | VerifyWork, jobs_in_flight: int, seconds: float) -> RoundOutcome:
        """One timed round with ``jobs_in_flight`` jobs at a time."""
        count = len(self._processes)
        per_process = [jobs_in_flight // count + (n < jobs_in_flight % count) for n in range(count)]
        if max(per_process) > self.threads_per_process:
            raise ValueError(f"{jobs_in_flight} jobs need more than {self.threads_per_process} threads a process")
        start_at = time.time() + 0.5  # every process starts at once, after the round is handed out
        for pipe, (slot, threads) in zip(self._pipes, enumerate(per_process), strict=True):
            pipe.send((work, Share(slot, threads, jobs_in_flight, start_at, seconds)))
        shares = []
        for pipe in self._pipes:
            if not pipe.poll(seconds + 120):
                raise RuntimeError("an in-process round did not finish")
            answer = pipe.recv()
            if isinstance(answer, BaseException):
                raise RuntimeError("an in-process round failed") from answer
            shares.append(answer)
        latencies = sorted(latency for share in shares for latency in share.latencies)
        finished = len(latencies)
        per_share = ", ".join(f"pid {share.pid}: {len(share.latencies)}" for share in shares)
        figures = wrk.WrkResult(
            requests_per_second=finished / seconds,
            p50_ms=statistics.median(latencies) * 1000 if latencies else math.nan,
            p99_ms=latencies[min(finished - 1, int(finished * 0.99))] * 1000 if latencies else math.nan,
            requests=finished,
            non_2xx=0,
            socket_errors=0,
            raw=f"in-process: {finished} jobs finished in {seconds} s by {len(shares)} processes ({per_share})",
            worker_shares=sorted((len(s.latencies) / finished for s in shares), reverse=True) if finished else [],
        )
        jobs_done = sum(share.jobs_done for share in shares)
        cpu_ms = sum(share.cpu_seconds for share in shares) / jobs_done * 1000 if jobs_done else math.nan
        return RoundOutcome(figures, sum(share.failures for share in shares), cpu_ms)
