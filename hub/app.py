"""The application factory."""

from __future__ import annotations

import atexit
from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import api, auth, errors, http, logs, ratelimit
from .config import Settings, load_settings
from .state import HubState
from .store import Store
from .web import apply, console, pages, verify


def create_app(config: Mapping[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the hub: settings from the environment (overridden by ``config``), store, routes."""
    settings = (settings or load_settings()).with_overrides(config or {})
    logs.configure(settings.log_level)
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    # The larger limit here; hub.http narrows it per request to the route's own (JSON or upload).
    app.config.update(MAX_CONTENT_LENGTH=max(settings.max_body_bytes, settings.max_upload_bytes))
    app.json.ensure_ascii = False
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)  # type: ignore[method-assign]
    store = Store(settings)
    state = HubState(settings=settings, store=store)
    app.extensions["hub"] = state
    app.secret_key = state.keyring.derive(b"flask-session")  # signs the operator console's session cookie
    if settings.admin_token:
        auth.ensure_operator_token(store, settings.admin_token)
    http.init_app(app)
    ratelimit.init_app(app, settings, store)
    api.init_app(app)
    app.register_blueprint(pages.blp)
    app.register_blueprint(console.blp)
    app.register_blueprint(verify.blp)
    app.register_blueprint(apply.blp)
    errors.init_app(app)
    atexit.register(store.close)
    return app
