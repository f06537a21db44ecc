"""A stand-in for the province's identity service: an OpenID Connect provider that tests serve on 127.0.0.1.

Built from Authlib's server parts (the authorization code grant with the OpenID Connect and PKCE extensions),
with everything kept in memory. There is no login form: ``/authorize`` signs in whoever ``sign_in_as`` names at
once (or, with ``sign_in_as = None``, answers ``error=access_denied``), so a test plays the resident by setting
that attribute and following the redirects. The ID token is RS256-signed with a key generated per provider and
carries every claim of ``sign_in_as``; ``/userinfo`` answers the same claims for the access token issued with it.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants, list_to_scope, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, Response, jsonify
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import BaseWSGIServer, make_server

SCOPES = ["openid", "profile"]
ALGORITHM = "RS256"
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
ACCESS_TOKEN_SECONDS = 3600
# Tests run the relying party on random ports, so any loopback redirect URI of this form is registered.
REDIRECT_PREFIX = "http://127.0.0.1:"


@dataclass
class _Client(ClientMixin):
    """The one registered client (the hub): confidential, authorization code grant only."""

    client_id: str
    client_secret: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # the redirect URI varies with the test's port, so the request must name it

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        return list_to_scope([s for s in scope_to_list(scope) if s in SCOPES])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        try:
            parts = urlsplit(redirect_uri)
            port = parts.port
        except ValueError:
            return False
        return (
            redirect_uri.startswith(REDIRECT_PREFIX)
            and parts.hostname == "127.0.0.1"
            and parts.username is None
            and port is not None
        )

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"  # so no refresh token is issued


@dataclass
class _Code(AuthorizationCodeMixin):
    """An authorization code not yet exchanged, with what the ID token will need."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, str]
    nonce: str | None
    auth_time: int
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass
class _Token(TokenMixin):
    """An issued access token: whose claims ``/userinfo`` answers, and until when."""

    access_token: str
    client: _Client
    scope: str
    user: dict[str, str]
    issued_at: int
    expires_in: int

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> dict[str, str]:
        return self.user

    def get_client(self) -> _Client:
        return self.client


class _Server(AuthorizationServer):
    """Authlib's Flask authorization server, knowing the provider whose memory its grants use."""

    def __init__(self, app: Flask, provider: StandInProvider) -> None:
        self.provider = provider
        super().__init__(app, query_client=provider._query_client, save_token=provider._save_token)


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    server: _Server

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        self.server.provider._save_code(code, request)

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        return self.server.provider._query_code(code, client)

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        self.server.provider._delete_code(authorization_code)

    def authenticate_user(self, authorization_code: _Code) -> dict[str, str]:
        return authorization_code.user


class _OpenIDCode(OpenIDCode):
    """The OpenID Connect extension: an ID token signed with the provider's key, with the signed-in claims."""

    def __init__(self, provider: StandInProvider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def resolve_client_private_key(self, client: _Client) -> RSAKey:
        return self.provider._key

    def get_client_algorithm(self, client: _Client) -> str:
        return ALGORITHM

    def get_encode_header(self, client: _Client) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": self.provider._key.kid or ""}

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        return {"iss": self.provider.issuer, "aud": client.get_client_id()}  # Authlib adds iat, exp and auth_time

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return self.provider._nonce_pending(nonce, request.payload.client_id)

    def generate_user_info(self, user: dict[str, str], scope: str) -> UserInfo:
        return UserInfo(user)


class _BearerTokens(BearerTokenValidator):
    def __init__(self, provider: StandInProvider) -> None:
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string: str) -> _Token | None:
        return self.provider._query_token(token_string)


class StandInProvider:
    """The province's identity service as the hub sees it: discovery, JWKS, authorize, token and userinfo.

    ``start()`` serves it in a daemon thread at ``issuer``; ``stop()`` ends that. Set ``sign_in_as`` to the claims
    of the resident who signs in (``None``: they decline, and ``/authorize`` redirects back with
    ``error=access_denied``); ``authorizations`` counts the authorization codes issued.
    """

    def __init__(self, client_id: str = "hub", client_secret: str = "hub-client-secret") -> None:  # noqa: S107
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id = client_id
        self.client_secret = client_secret
        self.sign_in_as: dict[str, str] | None = {
            "sub": "u1",
            "name": "李伟",
            "id_type": "resident-id",
            "id_number": "440106199001011235",
        }
        self.authorizations = 0
        self._key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
        self._client = _Client(client_id, client_secret)
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._tokens: dict[str, _Token] = {}
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # -- serving
    def start(self, wait_seconds: float = 10) -> StandInProvider:
        """Serve in a daemon thread; ``self`` once the discovery document answers."""
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="stand-in-oidc", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            try:
                if requests.get(self.issuer + "/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the stand-in identity service did not answer at {self.issuer}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # -- the application
    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.config["OAUTH2_SCOPES_SUPPORTED"] = SCOPES
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": ACCESS_TOKEN_SECONDS}
        server = _Server(app, self)
        server.register_grant(_CodeGrant, [_OpenIDCode(self), CodeChallenge(required=False)])
        require_oauth = ResourceProtector()
        require_oauth.register_token_validator(_BearerTokens(self))

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": self.issuer + "/authorize",
                    "token_endpoint": self.issuer + "/token",
                    "userinfo_endpoint": self.issuer + "/userinfo",
                    "jwks_uri": self.issuer + "/jwks",
                    "response_types_supported": ["code"],
                    "grant_types_supported": ["authorization_code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": [ALGORITHM],
                    "scopes_supported": SCOPES,
                    "token_endpoint_auth_methods_supported": AUTH_METHODS,
                    "code_challenge_methods_supported": ["S256"],
                    "claims_supported": [
                        "iss",
                        "aud",
                        "exp",
                        "iat",
                        "auth_time",
                        "nonce",
                        "sub",
                        "name",
                        "id_type",
                        "id_number",
                    ],
                }
            )

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(KeySet([self._key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize() -> Response:
            user = dict(self.sign_in_as) if self.sign_in_as is not None else None
            try:
                grant = server.get_consent_grant(end_user=user)
            except OAuth2Error as error:  # an unknown client or redirect URI: no redirect, as RFC 6749 says
                return server.handle_error_response(None, error)
            return server.create_authorization_response(grant.request, grant_user=user, grant=grant)

        @app.post("/token")
        def token() -> Response:
            return server.create_token_response()

        @app.get("/userinfo")
        @require_oauth("openid")
        def userinfo() -> Response:
            return jsonify(dict(current_token.get_user()))

        return app

    # -- memory, used by the Authlib parts above
    def _query_client(self, client_id: str) -> _Client | None:
        return self._client if client_id == self._client.client_id else None

    def _save_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        with self._lock:
            self._codes[code] = _Code(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                user=dict(request.user),
                nonce=data.get("nonce"),
                auth_time=int(time.time()),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )
            self.authorizations += 1

    def _query_code(self, code: str, client: _Client) -> _Code | None:
        with self._lock:
            found = self._codes.get(code)
        return found if found is not None and found.client_id == client.client_id else None

    def _delete_code(self, authorization_code: _Code) -> None:
        with self._lock:
            self._codes.pop(authorization_code.code, None)

    def _nonce_pending(self, nonce: str, client_id: str | None) -> bool:
        """Whether a code not yet exchanged already carries ``nonce`` (a replayed authorization request)."""
        with self._lock:
            return any(code.nonce == nonce and code.client_id == client_id for code in self._codes.values())

    def _save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        with self._lock:
            self._tokens[token["access_token"]] = _Token(
                access_token=token["access_token"],
                client=request.client,
                scope=token.get("scope", ""),
                user=dict(request.user),
                issued_at=int(time.time()),
                expires_in=int(token.get("expires_in", ACCESS_TOKEN_SECONDS)),
            )

    def _query_token(self, access_token: str) -> _Token | None:
        with self._lock:
            return self._tokens.get(access_token)
