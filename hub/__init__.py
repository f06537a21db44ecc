"""The hub: data sharing and e-licence exchange for online government services."""

from .app import create_app

__all__ = ["create_app"]
