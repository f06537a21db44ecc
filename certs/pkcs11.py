"""Keys on a PKCS#11 token (an HSM): made there, never leaving it, used through one session per process.

How sessions are handled. PKCS#11 logs in per process and token, not per session, and python-pkcs11
initialises a module without locking callbacks, which tells the module it is never called from two threads
at once (SoftHSM2 then turns its own mutexes off). So each process keeps one logged-in session per token,
opened lazily on first use and shared by every backend that names that token, and one process-wide lock is
held around every call into a module, pyHanko's included (its signer gets a locked view of the session).
Signing is serial within a worker process; gunicorn's workers sign in parallel. A session the token has
dropped is reopened once. After a fork the child forgets the parent's sessions without closing them
(closing logs out, and on a networked HSM the connection may still be the parent's), re-initialises the
module and logs in again on first use. The reference kept beside a certificate names the key by label and
CKA_ID only; the PIN comes from the backend's configuration.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from typing import Any, TypeVar, cast

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pkcs11 import exceptions as p11_errors
from pkcs11.constants import Attribute, MechanismFlag, ObjectClass
from pkcs11.mechanisms import KeyType, Mechanism
from pkcs11.types import Key, Object, PublicKey, Session, SignMixin, Token
from pkcs11.util.ec import encode_ec_public_key, encode_ecdsa_signature, encode_named_curve_parameters
from pyhanko.sign.pkcs11 import PKCS11Signer

from .api import KeyUnavailable

BACKEND = "pkcs11"
CURVE = "secp256r1"
T = TypeVar("T")

# The token lost the session (or its login): worth one retry on a fresh session.
_STALE_SESSION = (
    p11_errors.SessionHandleInvalid,
    p11_errors.SessionClosed,
    p11_errors.UserNotLoggedIn,
    p11_errors.DeviceRemoved,
)


class _Login:
    """The logged-in session on one token and the backends that use it."""

    def __init__(self, session: Session, user_pin: str) -> None:
        self.session = session
        self.user_pin = user_pin
        self.backends: weakref.WeakSet[Pkcs11Backend] = weakref.WeakSet()


class _Process:
    """PKCS#11 state that belongs to one process; a module global because PKCS#11 login is per process."""

    def __init__(self, stale_modules: frozenset[str] = frozenset()) -> None:
        self.lock = threading.Lock()
        self.modules: set[str] = set()
        self.stale_modules = set(stale_modules)  # initialised before a fork: re-initialise before use
        self.logins: dict[tuple[str, str], _Login] = {}


_process = _Process()


def _forget_after_fork() -> None:
    global _process
    _process = _Process(frozenset(_process.modules | _process.stale_modules))


os.register_at_fork(after_in_child=_forget_after_fork)


class Pkcs11Backend:
    """Makes EC P-256 keys on one PKCS#11 token and finds them again by label and CKA_ID."""

    name = BACKEND

    def __init__(self, module_path: str, token_label: str, user_pin: str) -> None:
        self.module_path = module_path
        self.token_label = token_label
        self._user_pin = user_pin

    def __repr__(self) -> str:
        return f"Pkcs11Backend(module_path={self.module_path!r}, token_label={self.token_label!r})"

    def generate(self, label: str) -> tuple[Pkcs11Key, dict[str, Any]]:
        """A new key pair on the token, the private half sensitive and not extractable."""
        key_id = secrets.token_bytes(16)

        def make(session: Session) -> ec.EllipticCurvePublicKey:
            public, _private = session.generate_keypair(
                KeyType.EC,
                id=key_id,
                label=label,
                store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                public_template={Attribute.EC_PARAMS: encode_named_curve_parameters(CURVE)},
                private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.PRIVATE: True},
            )
            return _to_cryptography(public)

        key = Pkcs11Key(self, label, key_id, self.call(make))
        return key, {"backend": BACKEND, "label": label, "key_id": key_id.hex()}

    def load(self, reference: dict[str, Any]) -> Pkcs11Key:
        """The key ``reference`` names, checked to be on the token."""
        try:
            if reference["backend"] != BACKEND:
                raise ValueError("another backend's reference")
            label, key_id = str(reference["label"]), bytes.fromhex(reference["key_id"])
        except (KeyError, TypeError, ValueError) as error:
            raise KeyUnavailable(f"not a PKCS#11 key reference: {sorted(reference)}") from error

        def find(session: Session) -> ec.EllipticCurvePublicKey:
            _private_key(session, label, key_id)
            return _to_cryptography(cast(PublicKey, _find_key(session, ObjectClass.PUBLIC_KEY, label, key_id)))

        return Pkcs11Key(self, label, key_id, self.call(find))

    def call(self, operation: Callable[[Session], T]) -> T:
        """``operation`` run on this process's session with the token, holding the process's PKCS#11 lock."""
        state = _process
        with state.lock:
            try:
                try:
                    return operation(self._session(state))
                except _STALE_SESSION:
                    stale = state.logins.pop((self.module_path, self.token_label), None)
                    if stale is not None:
                        with suppress(p11_errors.PKCS11Error):
                            stale.session.close()
                    return operation(self._session(state))
            except p11_errors.PKCS11Error as error:
                raise KeyUnavailable(
                    f"PKCS#11 token {self.token_label!r} failed: {type(error).__name__} {error}"
                ) from error

    def close(self) -> None:
        """Stop using the token; the last backend of this process to close it logs out."""
        state = _process
        with state.lock:
            login = state.logins.get((self.module_path, self.token_label))
            if login is None or self not in login.backends:
                return
            login.backends.discard(self)
            if not login.backends:
                del state.logins[(self.module_path, self.token_label)]
                with suppress(p11_errors.PKCS11Error):
                    login.session.close()

    def _session(self, state: _Process) -> Session:
        """The logged-in session, opened if this process has none; call with ``state.lock`` held."""
        login = state.logins.get((self.module_path, self.token_label))
        if login is None:
            token = self._token(state)
            try:
                session = token.open(rw=True, user_pin=self._user_pin)
            except (p11_errors.PinIncorrect, p11_errors.PinInvalid, p11_errors.PinLenRange) as error:
                raise KeyUnavailable(f"PKCS#11 token {self.token_label!r} refused the PIN") from error
            except p11_errors.PinLocked as error:
                raise KeyUnavailable(f"PKCS#11 token {self.token_label!r} has its PIN locked") from error
            login = state.logins[(self.module_path, self.token_label)] = _Login(session, self._user_pin)
        elif not hmac.compare_digest(login.user_pin.encode(), self._user_pin.encode()):
            # The token cannot check a PIN while this process is logged in; the one that logged in is the truth.
            raise KeyUnavailable(f"the PIN for PKCS#11 token {self.token_label!r} is not the one it accepted")
        login.backends.add(self)
        return login.session

    def _token(self, state: _Process) -> Token:
        """The token named by ``token_label``, its module loaded and initialised for this process."""
        try:
            library = pkcs11.lib(self.module_path)
            if self.module_path in state.stale_modules:
                with suppress(p11_errors.PKCS11Error):
                    library.finalize()
                library.initialize()
                state.stale_modules.discard(self.module_path)
            state.modules.add(self.module_path)
        except p11_errors.PKCS11Error as error:
            raise KeyUnavailable(f"PKCS#11 module {self.module_path!r} cannot be loaded: {error}") from error
        try:
            return library.get_token(token_label=self.token_label)
        except p11_errors.NoSuchToken as error:
            raise KeyUnavailable(f"no PKCS#11 token {self.token_label!r} in {self.module_path!r}") from error


class Pkcs11Key:
    """A private key on a PKCS#11 token, named by label and CKA_ID."""

    def __init__(self, backend: Pkcs11Backend, label: str, key_id: bytes, public: ec.EllipticCurvePublicKey) -> None:
        self.backend = backend
        self.label = label
        self.key_id = key_id
        self._public = public

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public half, read from the token when the key was made or loaded."""
        return self._public

    def sign(self, data: bytes) -> bytes:
        """A DER ECDSA signature over the SHA-256 of ``data``."""
        # Hash here and sign with plain CKM_ECDSA: every token has it, not all have CKM_ECDSA_SHA256.
        digest = hashlib.sha256(data).digest()
        raw = self.backend.call(
            lambda session: _private_key(session, self.label, self.key_id).sign(digest, mechanism=Mechanism.ECDSA)
        )
        return encode_ecdsa_signature(raw)

    def cms_signer(self, certificate: asn1_x509.Certificate, chain: Sequence[asn1_x509.Certificate]) -> PKCS11Signer:
        """A pyHanko signer for this key, using the process's session under its lock."""
        return PKCS11Signer(
            cast(Session, _LockedSession(self.backend)),
            signing_cert=certificate,
            ca_chain=list(chain),
            key_label=self.label,
            key_id=self.key_id,
            use_raw_mechanism=True,  # pyHanko hashes, the token does CKM_ECDSA, as in sign()
        )


class _LockedSession:
    """What pyHanko's signer sees of a session: each call it makes goes through :meth:`Pkcs11Backend.call`."""

    def __init__(self, backend: Pkcs11Backend) -> None:
        self.backend = backend

    def get_objects(self, attrs: dict[Attribute, Any] | None = None) -> Iterator[_LockedObject]:
        found = self.backend.call(lambda session: list(session.get_objects(attrs)))
        return iter([_LockedObject(self.backend, found_object) for found_object in found])


class _LockedObject:
    """A token object whose attribute reads and signatures hold the process's PKCS#11 lock."""

    def __init__(self, backend: Pkcs11Backend, token_object: Object) -> None:
        self.backend = backend
        self.token_object = token_object

    def __getitem__(self, attribute: Attribute) -> Any:
        return self.backend.call(lambda _session: self.token_object[attribute])

    def sign(self, data: bytes, **kwargs: Any) -> bytes:
        return self.backend.call(lambda _session: cast(SignMixin, self.token_object).sign(data, **kwargs))


def _find_key(session: Session, object_class: ObjectClass, label: str, key_id: bytes) -> Key:
    """The one EC key of ``object_class`` with this label and CKA_ID."""
    try:
        return session.get_key(object_class, KeyType.EC, label=label, id=key_id)
    except p11_errors.NoSuchKey as error:
        raise KeyUnavailable(
            f"no EC {object_class.name.lower().replace('_', ' ')} {label!r} (id {key_id.hex()}) on the PKCS#11 token"
        ) from error


def _private_key(session: Session, label: str, key_id: bytes) -> SignMixin:
    """The signing half of the EC key pair with this label and CKA_ID."""
    key = _find_key(session, ObjectClass.PRIVATE_KEY, label, key_id)
    if not isinstance(key, SignMixin):
        raise KeyUnavailable(f"PKCS#11 key {label!r} cannot sign")
    return key


def _to_cryptography(public: PublicKey) -> ec.EllipticCurvePublicKey:
    """The ``cryptography`` form of a token's EC public key (CKA_EC_PARAMS and CKA_EC_POINT)."""
    key = serialization.load_der_public_key(encode_ec_public_key(public))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise KeyUnavailable("the PKCS#11 public key is not an EC key")
    return key
