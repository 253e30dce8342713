"""Helpers shared by exercise 1's public and hidden checks: the softmax comparison and the hints
that name a wrong loss's likely mistake. Kept apart from the checks so that the hidden checks
never import the public check module, and shipped to students with the public checks."""

import numpy as np

from grader.checks.api import expect_close, fail, show
from grader.checks.translated import N_, _
from grader.sandbox.errors import StudentRaised
from reference.exercise1 import losses as ref

AXIS_HINT = N_("each row must sum to 1: normalise with np.sum(..., axis=-1, keepdims=True), not over the whole "
               "array.")


def softmax_hint(x: np.ndarray, got) -> str:
    """Name the likely mistake behind a wrong softmax."""
    got = np.asarray(got, dtype=float)
    if got.shape != x.shape:
        return _("softmax must return an array of the same shape as its input.")
    if not np.all(np.isfinite(got)):
        return _("exp overflowed: subtract each row's maximum before np.exp.")
    if x.ndim == 2 and np.isclose(got.sum(), 1.0) and not np.allclose(got.sum(axis=-1), 1.0):
        return _(AXIS_HINT)
    if x.ndim == 2 and not np.allclose(got.sum(axis=-1), 1.0):
        return _("rows do not sum to 1 — did you subtract/divide with the right axis and keepdims=True "
                 "(broadcasting a (N,) vector against (N, C) mixes rows)?")
    return ""


def check_softmax(student, x: np.ndarray, *, call: str = "softmax(x)") -> None:
    try:
        got = student.softmax(x)
    except StudentRaised as exc:
        if x.ndim == 1 and "axis" in exc.text.lower():
            fail(_("softmax(x) raised {error} on a 1-D input x={x}: {text}").format(
                     error=exc.type_name, x=show(x), text=exc.text),
                 hint=_("use axis=-1 (the last axis) so the same code works for (C,) and (N, C)."))
        raise
    try:
        expect_close(got, ref.softmax(x), call=call, inputs={"x": x}, rtol=1e-6, atol=1e-10)
    except AssertionError as exc:
        hint = softmax_hint(x, got) if isinstance(got, np.ndarray) else ""
        exc.hint = exc.hint or hint
        raise


def loss_hint(got, expected: float, batch: int, default: str) -> str:
    """Name the likely mistake behind a wrong loss value from how it relates to the right one."""
    try:
        value = float(np.asarray(got, dtype=float).reshape(-1)[0]) if np.size(got) == 1 else None
    except (TypeError, ValueError):
        value = None
    if value is None or expected == 0:
        return default
    ratio = value / expected
    if batch > 1 and np.isclose(ratio, batch, rtol=1e-6):
        return _("you returned the sum over the batch; divide by the batch size N = {batch}.").format(batch=batch)
    if np.isclose(ratio, 1 / np.log(10), rtol=1e-4):
        return _("that is log base 10: use the natural logarithm np.log.")
    if np.isclose(ratio, 2.0, rtol=1e-6):
        return _("the value is twice the expected one: did you forget the factor 0.5?")
    return default
