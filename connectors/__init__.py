"""How the hub talks to agency data sources: one small protocol, a registry of kinds, built-in kinds.

This package never imports ``flask`` or ``hub``: the hub hands each connector what it needs
(configuration, deadline, lookups of its own data) through the objects defined in :mod:`connectors.api`.
"""
