"""The catalogs are complete and consistent: every message id has a Korean entry with the
same placeholders, and the compiled .mo files say what the .po files say (grader/i18n.py)."""

from __future__ import annotations

import gettext
import re
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from grader import i18n

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import catalogs  # noqa: E402

CATALOGS = [*catalogs.DOMAINS, *catalogs.TITLES]
"""Every domain: the messages' and the checks' titles' (tests/test_i18n_titles.py)."""
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}|%\((\w+)\)[sdrf]")


def placeholders(text: str) -> list[str]:
    return sorted(a or b for a, b in PLACEHOLDER.findall(text.replace("{{", "").replace("}}", "")))


def catalog(domain: str, language: str = "ko"):
    path = catalogs.LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("domain", CATALOGS)
def test_every_message_has_a_korean_entry(domain):
    needed = catalogs.extracted(domain)
    po = catalog(domain)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in po if m.id and m.string
                  and not m.fuzzy and (isinstance(m.string, str) or all(m.string))} if po else {}
    missing = [f"{message!r} ({path.relative_to(catalogs.ROOT)})" for message, path in needed.items()
               if message not in translated]
    assert not missing, (f"{len(missing)} message(s) of domain {domain!r} have no Korean entry; run "
                         f"`python tools/catalogs.py` and translate them:\n" + "\n".join(missing[:30]))


@pytest.mark.parametrize("domain", CATALOGS)
def test_translations_keep_every_placeholder(domain):
    po = catalog(domain)
    wrong = []
    for message in po or []:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if text and placeholders(text) != placeholders(ids[-1] if len(ids) > 1 else ids[0]):
                wrong.append(f"{ids[0]!r} -> {text!r}")
    assert not wrong, "placeholders differ between English and Korean:\n" + "\n".join(wrong)


@pytest.mark.parametrize("domain", CATALOGS)
def test_compiled_catalogs_match_their_sources(domain):
    po = catalog(domain)
    if po is None:
        pytest.skip(f"no Korean catalog for {domain} yet")
    mo_path = po_path = catalogs.LOCALE / "ko" / "LC_MESSAGES" / f"{domain}.mo"
    assert mo_path.exists(), f"{po_path} is not compiled: run `python tools/catalogs.py compile`"
    with mo_path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [m.id for m in po if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
             and compiled.gettext(m.id) != m.string]
    assert not stale, f"{domain}.mo is older than {domain}.po: run `python tools/catalogs.py compile` ({stale[:3]})"


def test_placeholders_are_named():
    """A translation may reorder placeholders only when they have names."""
    anonymous = [(domain, message) for domain in catalogs.DOMAINS for message in catalogs.extracted(domain)
                 if re.search(r"(?<!\{)\{\}|\{:", message)]
    assert not anonymous, f"use named placeholders ({{got}}, not {{}}): {anonymous[:5]}"


def test_language_is_chosen_from_the_flag_then_the_course_then_the_locale():
    assert i18n.choose_language("ko", course="en", environ={"LANG": "en_US.UTF-8"}) == "ko"
    assert i18n.choose_language(None, course="ko", environ={"LANG": "en_US.UTF-8"}) == "ko"
    assert i18n.choose_language(None, environ={"LANG": "ko_KR.UTF-8"}) == "ko"
    assert i18n.choose_language(None, environ={"LC_ALL": "C", "LANG": "ko_KR.UTF-8"}) == "en"
    assert i18n.choose_language(None, environ={}) == "en"
    with pytest.raises(ValueError, match="unknown language"):
        i18n.choose_language("fr")


def test_a_translated_message_reads_in_korean_only_while_korean_is_chosen():
    message = "unknown exercise or command {name}; exercises: {exercises}; commands: {commands}"
    with i18n.language("ko"):
        korean = i18n._(message)
    assert korean != message and re.search("[가-힣]", korean)
    assert i18n._(message) == message
