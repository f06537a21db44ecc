"""SM2 keys and signatures over SM3 (GB/T 32918, GB/T 32905), computed by GmSSL (``gmssl_pyx``), in the
encodings X.509 and GB/T 38540 use.

An SM2 signature covers SM3(Z ‖ message), where Z hashes the signer's identifier and public key; the
identifier is GM/T 0009's default, ``1234567812345678``, unless a caller says otherwise, as certificates
and electronic seals use it. Signatures are DER ``SEQUENCE { r, s }``; public keys are the uncompressed
point ``04 ‖ x ‖ y`` on the curve sm2p256v1 inside an X.509 ``SubjectPublicKeyInfo`` (id-ecPublicKey with
the curve's OID as its parameter, as GM/T 0015 and OpenSSL write it).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import gmssl_pyx
from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .api import CertsError

SM2_CURVE_OID = "1.2.156.10197.1.301"
SM2_WITH_SM3_OID = "1.2.156.10197.1.501"
SM3_OID = "1.2.156.10197.1.401"
DEFAULT_SIGNER_ID = b"1234567812345678"
POINT_BYTES = 64  # x ‖ y, 32 bytes each
PRIVATE_BYTES = 32
PBKDF2_ITERATIONS = 600_000  # OWASP's figure for PBKDF2-HMAC-SHA256

if SM2_CURVE_OID not in asn1_keys.NamedCurve._map:  # asn1crypto knows the curve by name from here on
    asn1_keys.NamedCurve.register("sm2p256v1", SM2_CURVE_OID, 32)


class Sm2Error(CertsError):
    """An SM2 key or signature that cannot be used: malformed, or not on the curve."""


def sm3(data: bytes) -> bytes:
    """The SM3 digest of ``data`` (32 bytes)."""
    return bytes(gmssl_pyx.sm3_hash(data))


@dataclass(frozen=True)
class Sm2PublicKey:
    """An SM2 public key: the point ``x ‖ y`` (64 bytes)."""

    point: bytes

    def __post_init__(self) -> None:
        if len(self.point) != POINT_BYTES:
            raise Sm2Error(f"an SM2 public key is {POINT_BYTES} bytes of x and y, not {len(self.point)}")

    @classmethod
    def from_spki(cls, der: bytes | asn1_keys.PublicKeyInfo) -> Sm2PublicKey:
        """The key in an X.509 ``SubjectPublicKeyInfo``; Sm2Error unless it is an SM2 key."""
        try:
            info = der if isinstance(der, asn1_keys.PublicKeyInfo) else asn1_keys.PublicKeyInfo.load(der)
            algorithm = info["algorithm"]
            curve = algorithm["parameters"].chosen.dotted if algorithm["algorithm"].native == "ec" else None
            point = bytes(info["public_key"])
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise Sm2Error(f"not a SubjectPublicKeyInfo that can be read: {error}") from None
        if curve != SM2_CURVE_OID:
            raise Sm2Error("not an SM2 public key (the curve is not sm2p256v1)")
        if len(point) != POINT_BYTES + 1 or point[0] != 4:
            raise Sm2Error("an SM2 public key must be an uncompressed point")
        return cls(point[1:])

    def spki(self) -> asn1_keys.PublicKeyInfo:
        """The key as an X.509 ``SubjectPublicKeyInfo``."""
        return asn1_keys.PublicKeyInfo(
            {
                "algorithm": {
                    "algorithm": "ec",
                    "parameters": asn1_keys.ECDomainParameters(name="named", value=SM2_CURVE_OID),
                },
                "public_key": b"\x04" + self.point,
            }
        )

    def key_identifier(self) -> bytes:
        """RFC 5280's key identifier (method 1): SHA-1 of the subjectPublicKey bits."""
        return hashlib.sha1(b"\x04" + self.point, usedforsecurity=False).digest()

    def verify(self, message: bytes, signature: bytes, signer_id: bytes = DEFAULT_SIGNER_ID) -> bool:
        """Whether ``signature`` (DER) is this key's over ``message`` (Z for ``signer_id`` prepended)."""
        if not _is_der_signature(signature):
            return False
        try:
            return bool(gmssl_pyx.sm2_verify(self.point, message, signature, signer_id))
        except gmssl_pyx.GmsslInnerError:  # not a point on the curve, a signature out of range
            return False


class Sm2Key:
    """An SM2 private key held in memory (the hub keeps it sealed at rest)."""

    def __init__(self, private: bytes, public: bytes) -> None:
        if len(private) != PRIVATE_BYTES:
            raise Sm2Error(f"an SM2 private key is {PRIVATE_BYTES} bytes, not {len(private)}")
        self._private = private
        self.public_key = Sm2PublicKey(public)

    @classmethod
    def generate(cls) -> Sm2Key:
        """A new key pair from GmSSL's random generator."""
        public, private = gmssl_pyx.sm2_key_generate()
        return cls(bytes(private), bytes(public))

    @classmethod
    def from_pkcs8(cls, der: bytes) -> Sm2Key:
        """The key in an unencrypted PKCS#8 ``PrivateKeyInfo`` (as :meth:`pkcs8` writes and OpenSSL reads)."""
        try:
            info = asn1_keys.PrivateKeyInfo.load(der)
            curve = info["private_key_algorithm"]["parameters"].chosen.dotted
            inner = info["private_key"].parsed
            private = inner["private_key"].contents.rjust(PRIVATE_BYTES, b"\x00")
            public = bytes(inner["public_key"])
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise Sm2Error(f"not an SM2 PKCS#8 key that can be read: {error}") from None
        if curve != SM2_CURVE_OID or len(public) != POINT_BYTES + 1:
            raise Sm2Error("not an SM2 private key with its public point")
        return cls(private, public[1:])

    def pkcs8(self) -> bytes:
        """The key as unencrypted PKCS#8 DER (an ``ECPrivateKey`` on sm2p256v1, its public point included)."""
        curve = asn1_keys.ECDomainParameters(name="named", value=SM2_CURVE_OID)
        inner = asn1_keys.ECPrivateKey(
            {
                "version": "ecPrivkeyVer1",
                "private_key": asn1_core.IntegerOctetString(int.from_bytes(self._private, "big")),
                "public_key": b"\x04" + self.public_key.point,
            }
        )
        inner["private_key"].set_encoded_width(PRIVATE_BYTES)
        info = asn1_keys.PrivateKeyInfo(
            {"version": 0, "private_key_algorithm": {"algorithm": "ec", "parameters": curve}, "private_key": inner}
        )
        return info.dump()

    def encrypted_pem(self, passphrase: bytes) -> str:
        """The key as encrypted PKCS#8 PEM (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC), as the hub keeps its other
        software keys and as OpenSSL reads them."""
        salt, iv = os.urandom(16), os.urandom(16)
        padder = padding.PKCS7(128).padder()
        plain = padder.update(self.pkcs8()) + padder.finalize()
        encryptor = Cipher(algorithms.AES(_kek(passphrase, salt, PBKDF2_ITERATIONS)), modes.CBC(iv)).encryptor()
        info = asn1_keys.EncryptedPrivateKeyInfo(
            {
                "encryption_algorithm": {
                    "algorithm": "pbes2",
                    "parameters": {
                        "key_derivation_func": {
                            "algorithm": "pbkdf2",
                            "parameters": {
                                "salt": asn1_algos.Pbkdf2Salt(name="specified", value=salt),
                                "iteration_count": PBKDF2_ITERATIONS,
                                "prf": {"algorithm": "sha256"},
                            },
                        },
                        "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
                    },
                },
                "encrypted_data": encryptor.update(plain) + encryptor.finalize(),
            }
        )
        return asn1_pem.armor("ENCRYPTED PRIVATE KEY", info.dump()).decode()

    @classmethod
    def from_encrypted_pem(cls, text: str, passphrase: bytes) -> Sm2Key:
        """The key :meth:`encrypted_pem` wrote; Sm2Error for a wrong passphrase or anything else."""
        try:
            _, _, der = asn1_pem.unarmor(text.encode())
            info = asn1_keys.EncryptedPrivateKeyInfo.load(der)
            parameters = info["encryption_algorithm"]["parameters"]
            kdf = parameters["key_derivation_func"]["parameters"]
            scheme = parameters["encryption_scheme"]
            if scheme["algorithm"].native != "aes256_cbc" or kdf["prf"]["algorithm"].native != "sha256":
                raise Sm2Error("the key is encrypted in a way the hub does not write")
            kek = _kek(passphrase, kdf["salt"].native, kdf["iteration_count"].native)
            decryptor = Cipher(algorithms.AES(kek), modes.CBC(scheme["parameters"].native)).decryptor()
            padded = decryptor.update(info["encrypted_data"].native) + decryptor.finalize()
            unpadder = padding.PKCS7(128).unpadder()
            return cls.from_pkcs8(unpadder.update(padded) + unpadder.finalize())
        except (ValueError, TypeError, KeyError, AttributeError):
            raise Sm2Error("the SM2 key could not be opened (wrong passphrase?)") from None

    def private_bytes(self) -> bytes:
        """The 32-byte secret, for sealing at rest."""
        return self._private

    def sign(self, message: bytes, signer_id: bytes = DEFAULT_SIGNER_ID) -> bytes:
        """The DER signature over ``message`` (Z for ``signer_id`` prepended, then SM3)."""
        return bytes(gmssl_pyx.sm2_sign(self._private, self.public_key.point, message, signer_id))

    def __repr__(self) -> str:
        return f"Sm2Key(public={self.public_key.point[:8].hex()}…)"


def _kek(passphrase: bytes, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations).derive(passphrase)


class Sm2Signature(asn1_core.Sequence):
    """An SM2 signature: ``SEQUENCE { r INTEGER, s INTEGER }`` (GB/T 35276)."""

    _fields = [("r", asn1_core.Integer), ("s", asn1_core.Integer)]


def _is_der_signature(signature: bytes) -> bool:
    """Whether ``signature`` is one DER ``SEQUENCE { r, s }`` with positive r and s, and nothing more."""
    try:
        parsed = Sm2Signature.load(signature, strict=True)
        return parsed["r"].native > 0 and parsed["s"].native > 0 and parsed.dump(force=True) == signature
    except (ValueError, TypeError, KeyError):
        return False
