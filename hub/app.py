"""The application factory."""

from __future__ import annotations

import atexit
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from hub import logs
from hub.archives import routes as archive_routes
from hub.audit import routes as audit_routes
from hub.config import Settings, check_applicant_sign_in, load_settings
from hub.http import api_docs, hooks, problems, ratelimit
from hub.http.json_answers import JsonAnswers
from hub.intake import calendar_routes, deadline_routes, discrepancy_routes, statistics_routes
from hub.intake import routes as application_routes
from hub.licences import credential_routes, document_routes, grant_routes, pki_routes
from hub.licences import routes as licence_routes
from hub.ops import notification_routes
from hub.ops import routes as ops_routes
from hub.registry import agency_routes, tokens, type_routes
from hub.registry import routes as service_item_routes
from hub.resolution import policy_routes
from hub.resolution import routes as resolution_routes
from hub.sources import routes as connector_routes
from hub.state import HubState
from hub.store.client import Store
from hub.web import (
    apply,
    apply_licences,
    apply_signing,
    console,
    desk,
    guide_routes,
    outcome_routes,
    pages,
    session_routes,
    signin,
    verify,
)
from hub.web.sessions import ServerSessionInterface

# Every room's API blueprint, in the order the spec lists them.
API_BLUEPRINTS = (
    ops_routes.blp,
    agency_routes.blp,
    type_routes.blp,
    connector_routes.blp,
    service_item_routes.blp,
    guide_routes.blp,
    outcome_routes.blp,
    resolution_routes.blp,
    policy_routes.blp,
    licence_routes.blp,
    document_routes.blp,
    credential_routes.blp,
    grant_routes.blp,
    pki_routes.blp,
    application_routes.blp,
    discrepancy_routes.blp,
    statistics_routes.blp,
    notification_routes.blp,
    calendar_routes.blp,
    audit_routes.blp,
    archive_routes.blp,
    deadline_routes.blp,
    session_routes.blp,
)
PAGE_BLUEPRINTS = (pages.blp, console.blp, desk.blp, verify.blp, apply.blp, apply_signing.blp, apply_licences.blp)


def create_app(config: Mapping[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the hub: settings from the environment (overridden by ``config``), store, routes."""
    settings = (settings or load_settings()).with_overrides(config or {})
    check_applicant_sign_in(settings)
    logs.configure(settings.log_level)
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    # The larger limit here; hub.http.hooks narrows it per request to the route's own (JSON or upload).
    app.config.update(MAX_CONTENT_LENGTH=max(settings.max_body_bytes, settings.max_upload_bytes))
    app.json = JsonAnswers(app)
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)  # type: ignore[method-assign]
    store = Store(settings)
    state = HubState(settings=settings, store=store)
    app.extensions["hub"] = state
    app.secret_key = state.keyring.derive(b"flask-session")  # Flask wants one; sessions live on the server
    app.session_interface = ServerSessionInterface(lambda: store, settings.session_ttl)
    signin.init_app(app, settings)
    if settings.admin_token:
        tokens.ensure_operator_token(store, settings.admin_token)
    hooks.init_app(app)
    ratelimit.init_app(app, settings)
    api_docs.init_app(app, API_BLUEPRINTS)
    for blueprint in PAGE_BLUEPRINTS:
        app.register_blueprint(blueprint)
    problems.init_app(app, pages.render_error_page)
    atexit.register(store.close)
    return app
