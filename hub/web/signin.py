"""How applicants prove who they are: OpenID Connect against the province's identity service.

Authlib's Flask client does the authorization code flow with PKCE (S256) and a nonce, finds the
provider's endpoints and keys from its discovery document, and checks the ID token (signature,
issuer, audience, expiry, nonce). The applicant is whoever the ID token names: its
``HUB_OIDC_ID_CLAIM`` (an identifier that must fit its type), ``HUB_OIDC_ID_TYPE_CLAIM`` and
``name``. Without ``HUB_OIDC_*`` the only sign-in is the demo's, and only with ``HUB_DEMO=1``.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from hub.config import Settings
from hub.licences.schemas import HolderSchema

PROVIDER = "province"
EXTENSION = "hub_oidc"
CALLBACK_PATH = "/apply/callback"


def init_app(app: Flask, settings: Settings) -> None:
    """Register the province's identity service as this app's OpenID Connect provider, when configured."""
    if not settings.oidc:
        return
    oauth = OAuth(app)
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{str(settings.oidc_issuer).rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile", "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions[EXTENSION] = oauth


def provider() -> Any:
    """The registered provider (Authlib's FlaskOAuth2App) of the current app."""
    return getattr(current_app.extensions[EXTENSION], PROVIDER)


def callback_url(settings: Settings) -> str:
    """Where the identity service sends the applicant back: registered with it as the redirect URI."""
    return settings.base_url + CALLBACK_PATH


def applicant_from(claims: dict[str, Any], settings: Settings) -> dict[str, str]:
    """The applicant an ID token names; ValidationError when it does not name one the hub can accept."""
    return HolderSchema().load(
        {
            "id_type": claims.get(settings.oidc_id_type_claim) or "resident-id",
            "id": claims.get(settings.oidc_id_claim) or "",
            "name": claims.get("name") or "",
        }
    )
