"""The OpenAPI spec at /openapi.json, built from every room's flask-smorest blueprints, and its UI at /docs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask_smorest import Blueprint

from hub.http.openapi import HubApi, ProblemContentPlugin

DOCS_ASSETS = "/docs/assets/"


def _swagger_ui_dir() -> Path:
    return Path(swagger_ui_bundle.swagger_ui_path)


def init_app(app: Flask, blueprints: Iterable[Blueprint]) -> HubApi:
    """Register the rooms' API blueprints, the spec and the locally served docs UI."""
    app.config.update(
        API_TITLE="The hub: data sharing and e-licence exchange",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS,
        API_SPEC_OPTIONS={
            "info": {
                "description": "Once-only proof resolution, e-seals and e-licences for online government services.",
            },
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = HubApi(app, spec_kwargs={"extra_plugins": [ProblemContentPlugin()]})
    for blueprint in blueprints:
        api.register_blueprint(blueprint)

    @app.route(DOCS_ASSETS + "<path:filename>")
    def docs_assets(filename: str):
        return send_from_directory(_swagger_ui_dir(), filename, max_age=86_400)

    return api
