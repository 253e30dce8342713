"""How to grade: the one value that carries the user's choices from the CLI to the checks.

`grade exerciseN`, `grade batch`, `grade gradescope` and the tests build a `GradingOptions`
and hand it to `grade_submission` (or `run_batch`). The sandbox reads its isolation level and
limits; the checks receive it through the `options` fixture (grader/checks/runner.py), e.g.
to find MNIST (`options.data_dir`) or to choose where timed training runs (`options.device`).
Nothing is passed through environment variables.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from grader.catalog import Exercise

ISOLATION_LEVELS = ("auto", "bwrap", "process", "local")
"""auto: the strongest level this machine supports; local: the portable one for macOS and
Windows, feedback rather than grades (docs/security.md)."""
DEVICES = ("auto", "cpu", "cuda")
"""Where timed PyTorch training runs; auto: CUDA when the sandbox can use it, else the CPU."""


@dataclass(frozen=True)
class Limits:
    """Replacements for an exercise's catalog limits; None keeps the catalog's value.

    Tests use them so that a hang costs 1 s rather than 10, and `grade batch` for its hidden
    `--check-timeout`. `check_timeout` replaces the default of checks that set no `timeout=`."""

    check_timeout: float | None = None
    submission_timeout: float | None = None
    memory_mb: int | None = None

    def applied_to(self, exercise: Exercise) -> Exercise:
        changes = {"check_timeout": self.check_timeout, "submission_timeout": self.submission_timeout,
                   "memory_limit_mb": self.memory_mb}
        return dataclasses.replace(exercise, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def for_check_timeout(cls, seconds: float | None) -> "Limits":
        """A check timeout and a submission budget 20 times as long (batch's hidden --check-timeout):
        room for a hanging function's shorter later limits (session.HangMemory) and the restarts
        after them, so no verdict of a test depends on where a budget ran out on a loaded machine."""
        return cls(check_timeout=float(seconds), submission_timeout=20 * float(seconds)) if seconds else cls()


@dataclass(frozen=True)
class GradingOptions:
    isolation: str = "auto"
    device: str = "auto"
    data_dir: Path | None = None
    """Folder with the MNIST files; None: $MNIST_DATA_DIR, the cache, the course's copy (grader/mnist.py)."""
    limits: Limits = field(default_factory=Limits)
    language: str | None = None
    """The reader's language for messages and reports (grader/i18n.py); None keeps the process's.
    Carried here because a batch worker is another process."""

    def __post_init__(self) -> None:
        if self.isolation not in ISOLATION_LEVELS:
            raise ValueError(f"unknown isolation level {self.isolation!r}; use {', '.join(ISOLATION_LEVELS)}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; use {', '.join(DEVICES)}")
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", Path(self.data_dir))

    def exercise(self, exercise: Exercise) -> Exercise:
        """The exercise with these options' limits applied."""
        return self.limits.applied_to(exercise)

    def replace(self, **changes) -> "GradingOptions":
        return dataclasses.replace(self, **changes)


DEFAULT_OPTIONS = GradingOptions()
