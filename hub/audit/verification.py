"""Verifying the whole audit log: every partition's chain, checked against the sealed checkpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.audit import checkpoints, log

if TYPE_CHECKING:
    from hub.state import HubState


def verify(state: HubState, all_signatures: bool = False) -> log.ChainReport:
    """Recompute every partition's chain and check it against the sealed checkpoints.

    The state's PKI verifies the checkpoints' signatures.
    """
    listed = checkpoints.check(state, all_signatures)
    expected = listed.expected
    partitions = [*log.known_partitions(state.store)]
    partitions += sorted(set(expected) - set(partitions))  # a chain the registry forgot is still checked
    reports = [log.verify_partition(state.store, p, expected.get(p)) for p in partitions]
    oldest = min((r.oldest_at for r in reports if r.oldest_at), default=None)
    listed.problems += checkpoints.staleness_problems(listed, oldest, state.settings.checkpoint_interval)
    problems = tuple(p for r in reports for p in r.problems) + tuple(listed.problems)
    return log.ChainReport(
        intact=not problems,
        entries=sum(r.entries for r in reports),
        problems=problems,
        oldest_at=oldest,
        checkpoints=listed.summary(),
    )
