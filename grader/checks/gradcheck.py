"""Gradient comparison: relative error with the worst element named, for messages and reports.

relative error = |a - b| / max(|a|, |b|, tiny), element by element. `tiny` keeps the ratio
finite where both values are zero (then the error is 0, not nan).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from grader.checks.translated import _

TINY = 1e-12


@dataclass
class Comparison:
    name: str
    max_rel_error: float
    worst_index: tuple
    got: float
    expected: float
    passed: bool

    def to_row(self) -> dict:
        row = asdict(self)
        row["worst_index"] = list(self.worst_index)
        return row

    def describe(self) -> str:
        return _("{name}: relative error {error} at index {index} (yours {got}, expected {expected})").format(
            name=self.name, error=f"{self.max_rel_error:.2e}", index=self.worst_index, got=f"{self.got:.6g}",
            expected=f"{self.expected:.6g}")


def relative_error(got: np.ndarray, expected: np.ndarray, tiny: float = TINY) -> np.ndarray:
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    return np.abs(got - expected) / np.maximum(np.maximum(np.abs(got), np.abs(expected)), tiny)


def compare(name: str, got, expected, tol: float) -> Comparison:
    """Shapes must already agree; non-finite values count as an infinite error."""
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    err = relative_error(got, expected)
    err = np.where(np.isfinite(got) & np.isfinite(expected), err, np.inf)
    if err.size == 0:
        return Comparison(name, 0.0, (), 0.0, 0.0, True)
    flat = int(np.argmax(err))
    index = tuple(int(i) for i in np.unravel_index(flat, err.shape))
    worst = float(err.reshape(-1)[flat])
    return Comparison(name, worst, index, float(got.reshape(-1)[flat]), float(expected.reshape(-1)[flat]),
                      bool(worst <= tol))


def ratio_if_uniform(got, expected) -> float | None:
    """If `got` is `expected` times one constant (e.g. the batch size), that constant."""
    got = np.asarray(got, dtype=float).ravel()
    expected = np.asarray(expected, dtype=float).ravel()
    mask = np.abs(expected) > 1e-8
    if not mask.any():
        return None
    ratios = got[mask] / expected[mask]
    r = float(np.median(ratios))
    if r != 0 and np.allclose(ratios, r, rtol=1e-4) and np.allclose(got, r * expected, rtol=1e-4, atol=1e-10):
        return r
    return None
