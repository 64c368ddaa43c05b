"""Real signing keys (RSA, EC P-256, Ed25519) made with `cryptography`, their public JWKs, and
real tokens signed with them by PyJWT."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.utils import base64url_encode

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningKey:
    """A private key an issuer signs with, published in a JWKS as `jwk` under `kid`."""

    kid: str
    algorithm: str
    private_key: PrivateKey

    @property
    def jwk(self) -> dict[str, Any]:
        """The public half as a JWK, as an issuer publishes it."""
        public = jwt.get_algorithm_by_name(self.algorithm).to_jwk(
            self.private_key.public_key(), as_dict=True
        )
        return {**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    @property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(
        self, claims: Mapping[str, Any], *, kid: str | None = None, with_kid: bool = True
    ) -> str:
        """A token signed with this key, its header naming `kid` (this key's by default)."""
        headers = {"kid": kid or self.kid} if with_kid else None
        return jwt.encode(dict(claims), self.private_key, algorithm=self.algorithm, headers=headers)


def rsa_key(kid: str, *, bits: int = 2048) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return SigningKey(kid=kid, algorithm="RS256", private_key=private)


def ec_key(kid: str) -> SigningKey:
    return SigningKey(
        kid=kid, algorithm="ES256", private_key=ec.generate_private_key(ec.SECP256R1())
    )


def ed25519_key(kid: str) -> SigningKey:
    private = ed25519.Ed25519PrivateKey.generate()
    return SigningKey(kid=kid, algorithm="EdDSA", private_key=private)


def claims(
    sub: Any = "ada", roles: Any = (), ttl: timedelta = timedelta(hours=1), **more: Any
) -> dict[str, Any]:
    """The claims of a token valid from now for `ttl`, with `more` added; None removes a
    claim, and any value goes, for tokens that should be refused."""
    now = datetime.now(UTC).replace(microsecond=0)
    listed = list(roles) if isinstance(roles, tuple) else roles
    payload: dict[str, Any] = {"sub": sub, "roles": listed, "iat": now, "exp": now + ttl}
    payload |= more
    return {name: value for name, value in payload.items() if value is not None}


def hmac_signed(payload: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 token made by hand, as an attacker would: PyJWT refuses to use a public key
    as an HMAC secret, which is the point of the attack this forges."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    body = {
        name: int(value.timestamp()) if isinstance(value, datetime) else value
        for name, value in payload.items()
    }
    signing_input = b".".join(
        base64url_encode(json.dumps(part, separators=(",", ":")).encode())
        for part in (header, body)
    )
    signature = base64url_encode(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode()
