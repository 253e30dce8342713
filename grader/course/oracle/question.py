"""Questions to the reference that the grader asks through its own code.

Some reference functions take objects only the grader can build (a torch model, a DataLoader,
an optimizer), which the recorder cannot file. A check can then put the whole question in a
grader function whose arguments and answer are plain data (numbers, strings, arrays, dicts and
lists of them) and decorate it with `reference_question`: the function's body builds the
objects and calls the reference; the recorder files the function's call as one question
(record.py), and the bundle answers it from the recording (replay.py), without running the
body. In the course repository, with neither installed, the function just runs.
"""

from __future__ import annotations

import functools
from typing import Any, Callable


def reference_question(func: Callable) -> Callable:
    qualified = f"{func.__module__}.{func.__qualname__}"

    def body(*args: Any, **kwargs: Any) -> Any:
        from grader.course.oracle.data import rng_state, set_rng

        state = rng_state()
        try:
            return func(*args, **kwargs)
        finally:
            set_rng(state)

    @functools.wraps(func)
    def ask(*args: Any, **kwargs: Any) -> Any:
        from grader.course.oracle import record, replay

        if record.ACTIVE:
            proxy = record.RecordedObject(record.ACTIVE[0], record.Root(qualified, pure=True), (), body)
            return proxy(*args, **kwargs)
        if replay._installed:
            return replay.ReplayObject(replay._installed[0], replay.Root(qualified, pure=True), ())(*args, **kwargs)
        return body(*args, **kwargs)

    return ask


def standing_in() -> bool:
    """True when `reference.*` is the recorder's or the bundle's stand-in rather than the reference
    itself: a check then must not time the reference (a recorded answer takes no time)."""
    from grader.course.oracle import record, replay

    return bool(record.ACTIVE or replay._installed)
