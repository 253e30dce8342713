"""The reader's language: every sentence a student or an instructor reads goes through `_`.

The course is taught from the Korean edition of the book, so its students read Korean first;
English is the fallback. Catalogs are gettext's, managed with Babel (docs/translating.md):
`grader/locale/<lang>/LC_MESSAGES/<domain>.po`, compiled to `.mo` beside them. Every domain
found there is loaded, so each part of the grader (the reports, the checks, the handouts) keeps
its own catalog and no two edits meet in one file.

Writing a translatable sentence:

    from grader.i18n import _, ngettext
    _("expected {expected}, got {got}").format(expected=..., got=...)

- Translate when the sentence is built, not at import: a module constant is marked with `N_`
  (returns its text unchanged, so extraction finds it) and passed through `_` where it is used.
- Placeholders are named (`{got}`, not `{}`), so a translation may put them in its own order;
  tests/test_i18n.py fails when a translation's placeholders differ from its message id's.

The language is chosen once per grading (`use_language`): `--lang`, else the course file's
`language`, else the user's locale ($LC_ALL, $LC_MESSAGES, $LANG), else English. A batch worker
is another process: it receives the language in GradingOptions and sets it again.
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import os
from collections.abc import Iterator
from pathlib import Path

LANGUAGES = ("en", "ko")
"""Languages with complete catalogs; English is the messages' own language."""
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"

_current = DEFAULT_LANGUAGE


def _(message: str) -> str:
    """`message` in the current language (itself when no catalog has it)."""
    return translations(_current).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n` in the current language (Korean has one form)."""
    return translations(_current).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a constant for extraction without translating it yet (translate with `_` where it is used)."""
    return message


def current_language() -> str:
    return _current


def use_language(language: str | None) -> str:
    """Make `language` (None: English) the language of what follows; returns the one set.
    Unknown codes fall back to English, with the region dropped first (ko_KR -> ko)."""
    global _current
    _current = normalise(language) or DEFAULT_LANGUAGE
    return _current


@contextlib.contextmanager
def language(code: str | None) -> Iterator[str]:
    """Temporarily use another language (a test, a report rendered in both)."""
    before = _current
    try:
        yield use_language(code)
    finally:
        use_language(before)


def normalise(code: str | None) -> str | None:
    """'ko_KR.UTF-8' -> 'ko'; None for a language without a catalog."""
    if not code:
        return None
    base = code.split(".", 1)[0].split("@", 1)[0].replace("-", "_").split("_", 1)[0].lower()
    return base if base in LANGUAGES else None


def choose_language(explicit: str | None = None, course: str | None = None,
                    environ: dict[str, str] | None = None) -> str:
    """--lang, else the course file's language, else the user's locale, else English.
    An explicit code that has no catalog is refused (ValueError), a locale's is ignored."""
    if explicit:
        chosen = normalise(explicit)
        if chosen is None:
            raise ValueError(f"unknown language {explicit!r}; use one of: {', '.join(LANGUAGES)}")
        return chosen
    if normalise(course):
        return normalise(course)
    environ = os.environ if environ is None else environ
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable)
        if value:  # the first one set decides, as in C's setlocale
            return normalise(value) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


@functools.lru_cache(maxsize=None)
def translations(code: str) -> gettext.NullTranslations:
    """Every compiled domain of `code`, chained; English (the message ids) needs none."""
    folder = LOCALE_DIR / code / "LC_MESSAGES"
    catalogs = sorted(folder.glob("*.mo")) if code != DEFAULT_LANGUAGE else []
    chain: gettext.NullTranslations = gettext.NullTranslations()
    for path in reversed(catalogs):
        with path.open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)
        catalog.add_fallback(chain)
        chain = catalog
    return chain


def install_in(environment) -> None:
    """Give a jinja2 Environment `{% trans %}` and `_()` in the current language (jinja2.ext.i18n).
    Calls resolve at render time, so one environment serves both languages."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(lambda message: _(message),
                                          lambda singular, plural, n: ngettext(singular, plural, n),
                                          newstyle=True)
    environment.globals["html_lang"] = current_language
