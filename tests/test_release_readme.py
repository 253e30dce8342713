"""The bundle's README in Korean and English: the same commands in both, no English left in the
Korean one (grader/course/release.py, readme_text). Quick: the README is written from a small
report, without building a bundle."""

import re

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.course import release
from grader.course.release import WHEELHOUSE, ReleasedExercise, course_project, prose, readme_text, wheel_name
from grader.i18n import language

HANGUL = re.compile(r"[\uac00-\ud7a3]")
COMMENT = re.compile(r"\s+# .*$")
REPORT = [ReleasedExercise("exercise1", ["softmax", "cross_entropy"]),
          ReleasedExercise("exercise3", ["loss"], kept_back={"gradient": "needs the reference"}),
          ReleasedExercise("exercise7", skipped="no stub yet")]


def readme(code: str) -> str:
    with language(code):
        return readme_text(REPORT, course_project())


def code_blocks(text: str) -> list[list[str]]:
    """The README's code: its runs of lines indented by four spaces (Markdown code blocks)."""
    blocks, current = [], []
    for line in text.splitlines():
        if line.startswith("    "):
            current.append(line[4:])
        elif current:
            blocks.append(current)
            current = []
    return blocks + ([current] if current else [])


def prose_paragraphs(text: str) -> list[str]:
    """Everything but the code blocks and the table's |---| line, paragraph by paragraph."""
    paragraphs = re.split(r"\n\s*\n", text)
    return [p for p in paragraphs if p.strip() and not p.startswith("    ") and not re.fullmatch(r"[|\-\s]+", p)]


def test_both_readmes_give_the_same_commands_and_code():
    """Are the code blocks the same in Korean and English, line for line once their comments are cut,
    with only the comments translated?"""
    english, korean = code_blocks(readme("en")), code_blocks(readme("ko"))
    assert len(english) == len(korean) >= 6
    for en_block, ko_block in zip(english, korean):
        assert [COMMENT.sub("", line) for line in en_block] == [COMMENT.sub("", line) for line in ko_block]
    comments = [COMMENT.search(line).group() for block in korean for line in block if COMMENT.search(line)]
    assert len(comments) == 3 and all(HANGUL.search(comment) for comment in comments), comments


@pytest.mark.parametrize("code", ["en", "ko"])
def test_each_readme_holds_the_install_lines_ci_runs(code):
    """Do both READMEs hold, byte for byte, the install lines tests/test_release.py and
    .ci/bundle_install look for?"""
    wheel = f"{WHEELHOUSE}/{wheel_name()}"
    text = readme(code)
    for line in (f"pip install --no-index --find-links {WHEELHOUSE} {wheel}",
                 f"pip download -d {WHEELHOUSE} --find-links {WHEELHOUSE} {wheel}",
                 f"pip download -d {WHEELHOUSE} torch --index-url https://download.pytorch.org/whl/cpu",
                 "pip install torch --index-url https://download.pytorch.org/whl/cpu", f"pip install {wheel}"):
        assert f"\n    {line}" in text, line


def test_korean_readme_leaves_no_paragraph_in_english():
    """Does every heading, paragraph and table row of the Korean README have Hangul in it?"""
    parts = [part for paragraph in prose_paragraphs(readme("ko")) for part in paragraph.split("\n| ")]  # table rows
    english = [part for part in parts if not HANGUL.search(part)]
    assert not english, english


def test_english_readme_is_english():
    english = readme("en")
    assert not HANGUL.search(english)
    assert "| exercise | file | topic | checks here |" in english


def test_each_readme_says_how_to_get_the_other_language():
    """Does the Korean README say, near its top, how to get English feedback, and the English one Korean?"""
    for code, other in (("ko", "en"), ("en", "ko")):
        top = "\n".join(readme(code).split("\n## ")[0].splitlines()[:12])
        assert f"`grade exercise1 --lang {other}`" in top, (code, top)
        assert f'language="{other}"' in top


def test_korean_table_names_each_released_exercise_with_its_topic_and_checks():
    """Are the table's topics the book's Korean terms, its counts the report's, and the skipped exercise absent?"""
    text = readme("ko")
    assert "| 과제 | 파일 | 주제 |" in text
    row1 = next(line for line in text.splitlines() if line.startswith("| exercise1 |"))
    assert "교차 엔트로피 오차" in row1 and "오차제곱합" in row1 and "공개 검사 2개" in row1
    row3 = next(line for line in text.splitlines() if line.startswith("| exercise3 |"))
    assert "공개 검사 1개" in row3 and "1개는 강사가 채점할 때만" in row3
    assert "exercise7" not in text.split("| 과제 |")[1]


def test_prose_keeps_code_spans_whole_and_counts_hangul_twice():
    """Is a paragraph wrapped at spaces outside `code`, each line within the width (a Hangul
    syllable taking two columns), no line starting like a Markdown list or heading?"""
    text = "가나다 " * 10 + "`grade exercise1 --lang en` " + "word " * 10
    lines = prose(text, width=30).splitlines()
    assert "`grade exercise1 --lang en`" in lines
    assert all(release.columns(line) <= 30 for line in lines), lines
    assert release.columns("한국어 ok") == 9
    assert " ".join(lines) == text.strip()
    marked = prose("word " * 5 + "- 1. > # word", width=25).splitlines()
    assert len(marked) == 2 and not any(re.match(r"[-*+>#] |\d+\. ", line) for line in marked), marked


@pytest.mark.parametrize("code", ["en", "ko"])
def test_grade_release_lang_writes_the_readme_in_that_language(code, tmp_path, monkeypatch):
    """Does `grade release --lang ko|en` write the README in that language? (The bundle's contents
    are left out: only the project files are written.)"""
    def project_files_only(folder, chosen, *args):
        report = [ReleasedExercise(e.name, ["a"]) for e in chosen]
        release._write_project_files(folder, report)
        return report

    monkeypatch.setattr(release, "_build", project_files_only)
    with language("en"):  # the command sets the language for what follows; put it back after
        result = CliRunner().invoke(main, ["release", "--out", str(tmp_path), "--exercise", "exercise1",
                                           "--lang", code])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "dlcourse" / "README.md").read_text(encoding="utf-8")
    assert bool(HANGUL.search(text)) == (code == "ko")
    assert "\n    grade exercise1 --submission notebooks/exercise1.ipynb\n" in text
