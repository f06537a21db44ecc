"""Calling pyHanko's synchronous API from code that may already run inside an asyncio loop.

pyHanko's sync functions wrap ``asyncio.run``, which refuses to start inside a running loop (a
caller driven by an async framework, or a test process driving a browser). :func:`outside_loop`
runs such a function on a short-lived thread of its own in that case, and directly otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def outside_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)``, on another thread when this one runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(function, *args, **kwargs).result()
