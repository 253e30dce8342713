"""The checks' titles in Korean: each check's title (the first line of its docstring) has a Korean
entry in the `titles` catalog (`titles_hidden` for the hidden checks), extracted the way the runner
reads it; grading in Korean changes the titles only, never a name, status or score; a Korean title
names the same stub functions as the English one (the notebook's feedback sits beside them); and
the hidden checks' titles stay out of the students' bundle. tests/test_i18n.py checks the catalogs'
completeness, placeholders and compiled files for these domains as for every other."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.catalog import EXERCISES, get_exercise
from grader.checks.runner import list_checks
from grader.course import notebooks
from grader.course.release import is_secret
from grader.i18n import language
from grader.report.terminal import render_check

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import catalogs  # noqa: E402
import test_i18n  # noqa: E402

HANGUL = re.compile("[가-힣]")


def test_extracted_titles_are_the_titles_the_runner_shows():
    """Extraction reads the source (no import); the runner reads __doc__: both give the same titles,
    public ones in `titles`, hidden ones in `titles_hidden`."""
    shown = {"public": set(), "hidden": set()}
    for exercise in EXERCISES.values():
        for visibility in shown:
            shown[visibility] |= {title for *_, title in list_checks(exercise, visibility)}
    assert set(catalogs.check_titles("titles")) == shown["public"]
    assert set(catalogs.check_titles("titles_hidden")) == shown["hidden"]
    assert len(shown["public"]) > 40 and len(shown["hidden"]) > 60


def test_a_new_check_without_a_korean_title_fails_the_completeness_test(tmp_path, monkeypatch):
    """A course tree in tmp_path whose only check is new, with no Korean title yet."""
    new_check = tmp_path / "grader" / "checks" / "exercise9" / "test_public.py"
    new_check.parent.mkdir(parents=True)
    new_check.write_text('from grader.checks.api import public\n\n\n@public(points=1)\ndef test_new(student):\n'
                         '    """\n    softmax of a new batch sums to one per row\n\n    More words.\n    """\n',
                         encoding="utf-8")
    monkeypatch.setattr(catalogs, "ROOT", tmp_path)
    monkeypatch.setattr(catalogs, "CHECKS", tmp_path / "grader" / "checks")
    assert list(catalogs.extracted("titles")) == ["softmax of a new batch sums to one per row"]
    with pytest.raises(AssertionError, match="softmax of a new batch sums to one per row"):
        test_i18n.test_every_message_has_a_korean_entry("titles")


def test_list_checks_in_korean_changes_only_the_titles():
    for exercise in EXERCISES.values():
        english = list_checks(exercise)
        with language("ko"):
            korean = list_checks(exercise)
        assert [check[:3] for check in korean] == [check[:3] for check in english]
        untranslated = [title for *_, title in korean if not HANGUL.search(title)]
        assert not untranslated, f"{exercise.name}: titles without Korean: {untranslated}"


def test_korean_titles_name_the_same_stub_functions():
    """The notebook's feedback is placed beside the functions a check's title names (tested_names):
    a translation keeps every code name, so the place is the same in both languages."""
    for exercise in EXERCISES.values():
        names = notebooks.stub_names(exercise)
        english = list_checks(exercise)
        with language("ko"):
            korean = list_checks(exercise)
        for (name, _, _, title_en), (_, _, _, title_ko) in zip(english, korean):
            def placed(title: str) -> list[str]:
                return notebooks.tested_names(SimpleNamespace(name=name, title=title, failure=None, message=""), names)
            assert placed(title_ko) == placed(title_en), f"{exercise.name} {name}: {title_ko!r} vs {title_en!r}"


def test_grading_in_korean_gives_korean_titles_and_the_same_verdicts(grade, grade_reference):
    english = grade_reference("exercise1")
    with language("ko"):
        korean = grade("exercise1", get_exercise("exercise1").reference_path.parent)
        lines = [render_check(check) for check in korean.checks]
    verdicts = [(c.name, c.status, c.score, c.max_score) for c in english.checks]
    assert [(c.name, c.status, c.score, c.max_score) for c in korean.checks] == verdicts
    assert korean.score == english.score == english.max_score
    assert all(HANGUL.search(c.title) for c in korean.checks), [c.title for c in korean.checks]
    assert not any(HANGUL.search(c.title) for c in english.checks)
    batch = next(c for c in korean.checks if c.name == "softmax_batch_rows")
    assert batch.title == "배치에 대한 softmax는 각 행을 따로 정규화합니다"
    assert any(batch.title in line for line in lines)


def test_hidden_titles_stay_out_of_the_students_bundle():
    """The release leaves out every file named *hidden*: the hidden titles' catalog is one of them,
    and the public one holds no title of a hidden check alone."""
    hidden_files = [catalogs.LOCALE / "ko" / "LC_MESSAGES" / f"titles_hidden{suffix}" for suffix in (".po", ".mo")]
    hidden_files.append(catalogs.TEMPLATES / "titles_hidden.pot")
    assert all(path.exists() and is_secret(path) for path in hidden_files)
    public_catalog = test_i18n.catalog("titles")
    hidden_only = set(catalogs.check_titles("titles_hidden")) - set(catalogs.check_titles("titles"))
    assert hidden_only and not hidden_only & {message.id for message in public_catalog}
    assert not any(is_secret(catalogs.LOCALE / "ko" / "LC_MESSAGES" / f"titles{suffix}") for suffix in (".po", ".mo"))


def test_each_title_is_translated_in_one_catalog_only():
    """Catalogs are chained (grader/i18n.py): a title translated in two catalogs reads as the first
    one's, so one exercise's titles could read in another style than the rest's. The titles belong
    to the titles catalogs alone."""
    titles = {*catalogs.check_titles("titles"), *catalogs.check_titles("titles_hidden")}
    elsewhere = {}
    for po_path in sorted((catalogs.LOCALE / "ko" / "LC_MESSAGES").glob("*.po")):
        if po_path.stem not in catalogs.TITLES:
            translated = {m.id for m in test_i18n.catalog(po_path.stem) if m.id and m.string}
            elsewhere.update({title: po_path.name for title in titles & translated})
    assert not elsewhere, (f"{len(elsewhere)} check titles are also translated outside the titles catalogs "
                           f"(tools/catalogs.py TITLES), e.g. {sorted(elsewhere.items())[:3]}")
