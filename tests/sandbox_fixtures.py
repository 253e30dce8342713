"""Warm sandboxes shared by the tests of one module (tests/test_sandbox.py, tests/test_hostile.py):
one Launcher for exercise 1 per isolation level, started on first use and closed at the end of
the module, as a batch worker would reuse one. Import `sandboxes` into a test module to use it."""

from __future__ import annotations

import functools

import pytest

from grader.catalog import get_exercise
from grader.sandbox.launcher import Launcher, SandboxUnavailable, bwrap_works

EXERCISE = get_exercise("exercise1")
LEVELS = ["bwrap", "process"]
"""Isolation levels, strongest first."""


@functools.lru_cache(maxsize=None)
def refused_here(level: str) -> str | None:
    """Why this machine cannot grade at `level` (no usable bubblewrap; a root grader refusing a
    level that would run students' code as root: tests/test_trust_root.py), or None."""
    if level == "bwrap" and not bwrap_works():
        return "bubblewrap is not usable on this machine"
    try:
        with Launcher(EXERCISE, isolation=level):
            pass
    except SandboxUnavailable as exc:
        return str(exc)
    return None


def plainest_level() -> str:
    """The weakest level that grades here: `process`, else `local`, else `bwrap` (a root grader
    with Python in root's home refuses the first two)."""
    return next((level for level in ("process", "local", "bwrap") if refused_here(level) is None), "process")


def usable_levels() -> list[str]:
    return [level for level in LEVELS if level != "bwrap" or bwrap_works()]


@pytest.fixture(scope="module")
def sandboxes():
    """level -> a started Launcher; filled by sandbox_for, closed after the module's last test."""
    made: dict[str, Launcher] = {}
    yield made
    for launcher in made.values():
        launcher.close()


def sandbox_for(sandboxes: dict, level: str) -> Launcher:
    """The module's warm sandbox at `level`; the test is skipped where bwrap cannot run."""
    if level == "bwrap" and not bwrap_works():
        pytest.skip("bubblewrap is not usable on this machine")
    if level not in sandboxes:
        try:
            launcher = Launcher(EXERCISE, isolation=level)
            launcher.start()
        except SandboxUnavailable as exc:
            if "as root" not in str(exc):
                raise
            pytest.skip(str(exc))  # a root grader refuses this level here (tests/test_trust_root.py)
        sandboxes[level] = launcher
    return sandboxes[level]
