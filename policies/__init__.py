"""Cedar policies that decide which evidence an agency may read, and the small engine around them.

``need_to_know.cedar`` is the default (the lead and co-agencies of a service item may read the
evidence types its materials name); operators add ``.cedar`` files beside it, validated against
``hub.cedarschema`` before they take effect. This package does no I/O: the hub reads the files.
"""

from .api import Decision, ItemFacts, PolicyDecider, PolicyError, needed_by
from .engine import DEFAULT_POLICY_DIR, DEFAULT_POLICY_FILES, SCHEMA_FILE, PolicyEngine

__all__ = [
    "DEFAULT_POLICY_DIR",
    "DEFAULT_POLICY_FILES",
    "SCHEMA_FILE",
    "Decision",
    "ItemFacts",
    "PolicyDecider",
    "PolicyEngine",
    "PolicyError",
    "needed_by",
]
