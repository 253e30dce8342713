"""Checks' sentences in the reader's language, grouped the same way in every language.

The class summary groups failures by their cause (results.cause_key); when a check names
none, the key is derived from the hint or the rationale, which are now translated, so a
class graded in Korean would be grouped by Korean text, and en and ko runs of the same
submissions would disagree. The checks of exercises 5-7 therefore build their sentences with
this module's `_`, which returns a `Sentence`: the translated text that also remembers its
English. Their checks are marked with this module's `public`/`hidden`, which, when a check
fails without a named cause, names it from the English of its hint (else of its rationale),
numbers masked: the same key in every language.

    from grader.checks.localised import _, hidden, public
    fail(_("{name} returned {got}").format(name=..., got=...), hint=_(SOME_HINT))

Babel extracts `_("...")` wherever `_` comes from, so these sentences land in the exercise's
catalog like any other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from grader import i18n
from grader.i18n import N_  # noqa: F401  (re-exported: the checks mark constants with it)
from grader.checks import api
from grader.results import mask_numbers


class Sentence(str):
    """A translated sentence that remembers its English (`english`), also through `format`."""

    english: str

    def __new__(cls, text: str, english: str) -> "Sentence":
        sentence = super().__new__(cls, text)
        sentence.english = english
        return sentence

    def format(self, *args: Any, **fields: Any) -> "Sentence":
        return Sentence(str.format(self, *args, **fields),
                        self.english.format(*map(english, args), **{k: english(v) for k, v in fields.items()}))

    def __reduce__(self):  # copies and pickles stay Sentences
        return Sentence, (str(self), self.english)


def _(message: str) -> Sentence:
    """`message` in the current language, remembering the English."""
    return Sentence(i18n._(message), message)


def english(value: Any) -> Any:
    """The English of a Sentence; any other value as it is."""
    return value.english if isinstance(value, Sentence) else value


def join(separator: str, parts: list) -> Sentence:
    """Sentences joined (a list of failures), remembering the English of each."""
    return Sentence(separator.join(map(str, parts)), separator.join(str(english(p)) for p in parts))


def language_independent_cause(failure: api.CheckFailed) -> None:
    """Name the failure's cause from its English hint (else rationale) when the check named none."""
    if failure.failure.cause:
        return
    for text in (failure.hint, failure.failure.rationale):
        if isinstance(text, Sentence) and text:
            failure.failure.cause = "en:" + mask_numbers(text.english)
            return


def _grouped_in_english(check: Callable) -> Callable:
    @functools.wraps(check)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except api.CheckFailed as failure:
            language_independent_cause(failure)
            raise

    return run


def public(points: float, timeout: float | None = None) -> Callable:
    """api.public, with failures grouped by their English (see the module docstring)."""
    return lambda check: api.public(points, timeout)(_grouped_in_english(check))


def hidden(points: float, timeout: float | None = None) -> Callable:
    """api.hidden, with failures grouped by their English (see the module docstring)."""
    return lambda check: api.hidden(points, timeout)(_grouped_in_english(check))
