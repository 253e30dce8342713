"""The stubs' instructions and the checks of exercises 5-7 in Korean (grader/handouts.py,
grader/checks/translated.py): the Korean stub is the same code with translated docstrings, and a
submission graded in Korean gets the English verdicts, in Korean words, grouped the same way."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from conftest import CASES
from grader import i18n
from grader.catalog import EXERCISES, get_exercise
from grader.checks.translated import _ as sentence
from grader.handouts import docstrings, instructions, localise_file, localised_source
from grader.options import GradingOptions
from grader.results import cause_key

HANGUL = re.compile("[가-힣]")
STUBS = {name: exercise.stub_path for name, exercise in EXERCISES.items()}


def without_docstrings(source: str) -> str:
    """The module's AST dumped with every module, class and function docstring removed."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree)


def code_tokens(source: str) -> list[tuple[int, str]]:
    """Every token but the docstrings' strings, comments included: what must stay byte for byte."""
    literals = {(d.line, d.column) for d in docstrings(source)}
    return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if not (t.type == tokenize.STRING and t.start in literals)]


def signatures(source: str) -> list[str]:
    return [f"{node.name}({ast.unparse(node.args)})" for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


@pytest.mark.parametrize("name", sorted(STUBS))
def test_korean_stub_is_the_same_code(name):
    """Is the Korean stub valid Python whose code, comments and signatures are the English stub's?"""
    english = STUBS[name].read_text(encoding="utf-8")
    korean = localised_source(english, "ko")
    assert korean != english
    assert without_docstrings(korean) == without_docstrings(english)
    assert code_tokens(korean) == code_tokens(english)
    assert signatures(korean) == signatures(english)


@pytest.mark.parametrize("name", sorted(STUBS))
def test_every_instruction_of_a_stub_reads_in_korean(name):
    """Does every docstring of the stub have a Korean translation, and does the Korean stub show it?"""
    english = STUBS[name].read_text(encoding="utf-8")
    ids = instructions(english)
    assert ids, f"{name}'s stub has no docstrings"
    catalog = i18n.translations("ko")
    untranslated = [text.splitlines()[0] for text in ids if not HANGUL.search(catalog.gettext(text))]
    assert not untranslated, f"docstrings without Korean: {untranslated}"
    korean_docs = [d.text for d in docstrings(localised_source(english, "ko"))]
    assert len(korean_docs) == len(ids) and all(HANGUL.search(text) for text in korean_docs)


def test_english_and_untranslated_docstrings_stay_as_they_are():
    """English asks for no change; a docstring the catalog lacks keeps its English text."""
    source = 'def f(x):\n    """Not in any catalog."""\n    return x  # a comment\n'
    assert localised_source(source, "en") == source
    assert localised_source(source, "ko") == source


def test_layout_of_a_translated_docstring_follows_the_original():
    """Continuation lines keep the original's indentation and the closing quotes their line."""
    english = STUBS["exercise5"].read_text(encoding="utf-8")
    korean = localised_source(english, "ko")
    sgd = next(d for d in docstrings(korean) if d.text.startswith("확률적 경사 하강법"))
    assert "\n        p <- p - lr * g\n" in sgd.raw and sgd.raw.endswith("\n    ")


def test_localise_file_writes_the_current_language(tmp_path):
    """The release's call: the stub file in the current language, English left untouched."""
    stub = tmp_path / "optimizers.py"
    english = STUBS["exercise5"].read_text(encoding="utf-8")
    stub.write_text(english, encoding="utf-8")
    localise_file(stub)
    assert stub.read_text(encoding="utf-8") == english
    with i18n.language("ko"):
        localise_file(stub)
    assert stub.read_text(encoding="utf-8") == localised_source(english, "ko")


def grade_in(language: str, grade, exercise: str, path: Path, checks=None):
    with i18n.language(language):
        return grade(exercise, path, options=GradingOptions(language=language), checks=checks)


def verdicts(result) -> list[tuple]:
    return [(c.name, c.status, c.score, c.max_score, c.visibility) for c in result.checks]


def test_untouched_korean_stub_grades_like_the_english_one(grade, tmp_path):
    """The Korean handout, ungraded work: the same zero and the same statuses as the English one."""
    stub = STUBS["exercise1"]
    (tmp_path / stub.name).write_text(localised_source(stub.read_text(encoding="utf-8"), "ko"), encoding="utf-8")
    english = grade_in("en", grade, "exercise1", stub.parent)
    korean = grade_in("ko", grade, "exercise1", tmp_path)
    assert verdicts(korean) == verdicts(english)
    assert korean.score == english.score == 0 < english.max_score


# Buggy submissions and a few fast checks each fails or passes (exercise 7's MNIST run left out).
BILINGUAL_CASES = [
    ("exercise5", "bug_adam_no_bias_correction", ["sgd_steps", "momentum_steps", "adam_steps"]),
    ("exercise6", "bug_bn_gamma_beta_swapped", ["batchnorm_forward_training", "dropout_drops_the_right_fraction",
                                                "xavier_std"]),
    ("exercise7", "bug_device_string", ["get_device", "make_loaders_batches_and_dtypes"]),
]


@pytest.mark.parametrize("exercise, case, checks", BILINGUAL_CASES, ids=[c[0] for c in BILINGUAL_CASES])
def test_checks_read_in_korean_with_the_english_verdicts(grade, exercise, case, checks):
    """Does a buggy submission get the same checks, statuses and scores in Korean, its failures
    said in Korean (hints too) and grouped under the same cause keys as in English?"""
    path = CASES / exercise / case
    english = grade_in("en", grade, exercise, path, checks)
    korean = grade_in("ko", grade, exercise, path, checks)
    assert verdicts(korean) == verdicts(english)
    assert korean.score == english.score < english.max_score
    failed = [(e, k) for e, k in zip(english.checks, korean.checks) if not e.passed]
    assert failed, "the case should fail one of the chosen checks"
    for e, k in failed:
        assert HANGUL.search(k.message) and HANGUL.search(k.hint), (k.message, k.hint)
        assert not HANGUL.search(e.message + e.hint)
        assert cause_key(k) == cause_key(e)


def test_a_sentence_remembers_its_english_through_format():
    """The cause of a failure is named from the English, whatever the language shown."""
    message = "update call {step} of {optimizer}"
    with i18n.language("ko"):
        said = sentence(message).format(step=2, optimizer=sentence("training"))
    assert HANGUL.search(said) and said.english == "update call 2 of training"


def test_the_release_writes_korean_stubs(tmp_path):
    """The bundle's exercises/ folder, copied while Korean is the language, holds Korean stubs."""
    from grader.course.release import _copy_exercises

    exercise = get_exercise("exercise5")
    with i18n.language("ko"):
        _copy_exercises(tmp_path, [exercise])
    copied = (tmp_path / "exercises" / "exercise5" / exercise.stub_path.name).read_text(encoding="utf-8")
    assert copied == localised_source(exercise.stub_path.read_text(encoding="utf-8"), "ko")
