"""`_` for the checks' messages, which also remembers each message's English.

The class summary groups students by their mistake (results.cause_key), which is read from the
hint and the message. A student graded in Korean and one graded in English who made the same
mistake must land in one group, so the key is made from the English text (`english_of`), while
the student reads the translation. The checks write `_("...").format(...)` as everywhere else;
the text they get back knows its English (`Said.english`), and every translated sentence of the
running check is remembered, so a hint joined from several of them is read back too.

Remembered sentences are kept for the grading process, the newest MEMORY_LIMIT of them.
"""

from __future__ import annotations

from typing import Any

from grader import i18n
from grader.i18n import N_, current_language  # noqa: F401 - re-exported for the checks

MEMORY_LIMIT = 5000
"""Sentences remembered at most; the older half is forgotten when full (a check that loops over
many examples says many, and a message made once, e.g. a module that does not import, is
repeated by later checks)."""

_english: dict[str, str] = {}
"""Each translated sentence of the running check -> its English."""


class Said(str):
    """A translated sentence that knows its English; `format` fills both alike."""

    english: str

    def format(self, *args: Any, **kwargs: Any) -> "Said":
        args = tuple(map(_as_text, args))
        kwargs = {name: _as_text(value) for name, value in kwargs.items()}
        english = self.english.format(*map(english_of, args), **{k: english_of(v) for k, v in kwargs.items()})
        return said(str.format(self, *args, **kwargs), english)


def _as_text(value: Any) -> Any:
    """A value for a placeholder: numbers as they are (a format spec may need them), anything
    else as its text, made once (an object that describes itself in words says them now)."""
    return value if isinstance(value, (str, int, float, complex)) else str(value)


def said(text: str, english: str) -> Said:
    """`text` (already in the current language) known to say `english`: for a sentence the
    English builds in its own way (an article), which one message id cannot give."""
    sentence = Said(text)
    sentence.english = english
    if text != english:
        if len(_english) >= MEMORY_LIMIT:  # forget the older half: the running check's are the newest
            for old in list(_english)[:MEMORY_LIMIT // 2]:
                del _english[old]
        _english.pop(text, None)
        _english[text] = english
    return sentence


def _(message: str) -> str:
    """`message` in the current language, remembering its English (i18n._)."""
    return said(i18n._(message), message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return said(i18n.ngettext(singular, plural, n), singular if n == 1 else plural)


def english_of(text: Any) -> Any:
    """The English of a text made from translated sentences (anything else as it is): the
    whole text when it is one sentence said, else each sentence said in it replaced, the
    longest first."""
    if not isinstance(text, str):
        return text
    if isinstance(text, Said):
        return text.english
    if not _english or i18n.current_language() == i18n.DEFAULT_LANGUAGE:
        return text
    if text in _english:
        return _english[text]
    for sentence in sorted((s for s in _english if s and s in text), key=len, reverse=True):
        text = text.replace(sentence, _english[sentence])
    return text


def join(separator: str, parts: list) -> str:
    """Sentences joined (a list of failures), knowing the English of each."""
    return said(separator.join(map(str, parts)), separator.join(str(english_of(part)) for part in parts))


def forget() -> None:
    """Forget every sentence remembered (a test that starts afresh)."""
    _english.clear()
