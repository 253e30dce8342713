"""A network that records how `train_network` uses it, for the unit checks of exercise 4.

`RecordingNetwork` lives in the grader's process. The student's `train_network` receives a
stand-in whose `params` is real local data it updates in place; each `gradient`, `loss` and
`accuracy` call runs here with the params the student's code holds at that moment, so the
log shows every call, the rows it was given and the params it saw.

Every row of the toy data set is recognisable: column 0 is the row's number and column 1 is
+1 in the training set and -1 in the test set, and each target row carries the same number,
so a call's rows say exactly which training (or test) rows were used. Gradients are simple
deterministic arrays and every loss/accuracy value is unique, so the expected parameters
after each update, and the call behind each recorded number, are exactly known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

KEYS = ("W1", "b1", "W2", "b2")
SHAPES = {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}
VALUE_STEP = 1.0 / 1024
"""Loss and accuracy values are multiples of this (exact in binary), one per call."""


@dataclass(frozen=True)
class ToyData:
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray

    @property
    def train_size(self) -> int:
        return len(self.x_train)


def make_data(train_size: int, test_size: int = 7, seed: int = 0, test_scale: float = 1.0,
              labels: bool = False) -> ToyData:
    """Rows [number, +1/-1, noise, noise]; targets [number, +1/-1], or with `labels` integer
    labels of shape (N,): the row's number in the training set and -(number + 1) in the test
    set (SPEC.md's networks take labels as well as one-hot rows). `test_scale` varies the test
    rows' content (not their numbering) to show that test data never matters."""
    rng = np.random.default_rng(seed)

    def rows(n: int, side: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
        number = np.arange(n, dtype=float)
        x = np.column_stack([number, np.full(n, side), scale * rng.standard_normal((n, 2))])
        return x, np.column_stack([number, np.full(n, side)])

    x_train, t_train = rows(train_size, 1.0, 1.0)
    x_test, t_test = rows(test_size, -1.0, test_scale)
    if labels:
        t_train, t_test = np.arange(train_size), -1 - np.arange(test_size)
    return ToyData(x_train, t_train, x_test, t_test)


def initial_params() -> dict[str, np.ndarray]:
    return {k: (np.arange(np.prod(s), dtype=float).reshape(s) + 1) / 8 for k, s in SHAPES.items()}


@dataclass
class Call:
    method: str
    rows: list[tuple[str, int]]
    """('train', i), ('test', j) or ('unknown', k) for each row of x, in order."""
    targets_match: bool
    """Whether each row of t belongs to the same example as the row of x beside it."""
    params: dict[str, np.ndarray]
    returned: Any
    iteration: int
    """How many gradient calls came before this one, minus one (-1 before the first)."""

    @property
    def sets(self) -> set[str]:
        return {side for side, _ in self.rows}

    def row_numbers(self) -> list[int]:
        return [number for _, number in self.rows]


@dataclass
class RecordingNetwork:
    """The grader's network: `params`, `gradient`, `loss`, `accuracy`, and a log of calls."""

    data: ToyData
    value_offset: int = 0
    """Shifts the loss/accuracy values, to show that no decision depends on them."""
    params: dict[str, np.ndarray] = field(default_factory=initial_params)
    calls: list[Call] = field(default_factory=list)
    sandbox_state = ("params",)

    def __post_init__(self):
        self._lookup = {row.tobytes(): ("train", i) for i, row in enumerate(self.data.x_train)}
        self._lookup.update({row.tobytes(): ("test", j) for j, row in enumerate(self.data.x_test)})
        self._gradient_calls = 0

    # -- the interface SPEC.md allows train_network to use --------------------------------
    def gradient(self, x, t):
        grads = self._gradient_for(self._gradient_calls, np.asarray(x, dtype=float))
        self._gradient_calls += 1
        self._record("gradient", x, t, grads)
        return {k: g.copy() for k, g in grads.items()}

    def loss(self, x, t):
        return self._record("loss", x, t, 1.0 + self._next_value())

    def accuracy(self, x, t):
        return self._record("accuracy", x, t, self._next_value())

    # -- recording -------------------------------------------------------------------------
    def _next_value(self) -> float:
        return ((len(self.calls) + self.value_offset) % 1000 + 1) * VALUE_STEP

    def _record(self, method: str, x, t, returned):
        rows = self._identify(x)
        self.calls.append(Call(method, rows, self._targets_match(rows, t),
                               {k: np.array(v, dtype=float, copy=True) for k, v in self.params.items()},
                               returned, self._gradient_calls - 1))
        return returned

    def _identify(self, x) -> list[tuple[str, int]]:
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.data.x_train.shape[1]:
            return [("unknown", -1)]
        return [self._lookup.get(row.tobytes(), ("unknown", k)) for k, row in enumerate(x)]

    @staticmethod
    def _targets_match(rows, t) -> bool:
        t = np.asarray(t, dtype=float)
        if t.ndim == 1 and len(t) == len(rows):  # labels: the number, or -(number + 1) for test rows
            return all(side != "unknown" and t[k] == (number if side == "train" else -1 - number)
                       for k, (side, number) in enumerate(rows))
        if t.ndim != 2 or len(t) != len(rows) or t.shape[1] != 2:
            return False
        return all(side != "unknown" and t[k, 0] == number and t[k, 1] == (1.0 if side == "train" else -1.0)
                   for k, (side, number) in enumerate(rows))

    @staticmethod
    def _gradient_for(count: int, x: np.ndarray) -> dict[str, np.ndarray]:
        """Different for every call and key (and for the batch's content), exactly known."""
        batch_term = float(np.mean(x[:, 2])) / 16 if x.ndim == 2 and x.shape[1] > 2 and len(x) else 0.0
        return {k: (np.arange(np.prod(s), dtype=float).reshape(s) + 1 + i) * (count + 1) / 64 + batch_term
                for i, (k, s) in enumerate(SHAPES.items())}

    # -- reading the log -------------------------------------------------------------------
    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def find_value(self, value: float) -> Call | None:
        """The loss or accuracy call that returned `value` (each returns a different number,
        VALUE_STEP apart, so a value stored as float32 or rounded to 4 decimals is still found)."""
        for call in self.calls:
            if call.method != "gradient" and abs(call.returned - value) < VALUE_STEP / 4:
                return call
        return None
