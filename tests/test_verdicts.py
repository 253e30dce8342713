"""Every exercise of the catalog against its tests/cases/exerciseN/verdicts.toml: the reference gets
full marks, the untouched handout scores zero, and each case gets the verdict its table gives;
and the reader of those tables refuses, by name, what it cannot read."""

import pytest

from conftest import CASES, CORPUS, assert_caught, assert_full_marks, assert_stub_scores_zero, failed_checks
from grader.catalog import EXERCISES, get_exercise
from grader.checks.runner import list_checks
from grader.course.verdicts import Verdict, VerdictsError, case_folders, load_verdicts

MNIST_EXERCISES = ("exercise4", "exercise7")
"""Exercises whose checks train on MNIST."""
SHARED_MNIST = get_exercise("exercise7").stub_path.parents[3] / "shared" / "data" / "mnist"


def readable_verdicts(exercise: str, root=CASES) -> dict[str, Verdict]:
    """The exercise's verdicts for parametrising; {} when its file cannot be read, which
    test_verdicts_file_lists_every_case_folder then reports with the reader's message."""
    try:
        return load_verdicts(exercise, root)
    except VerdictsError:
        return {}


MNIST_RUN = (pytest.mark.slow, pytest.mark.mnist)
"""Marks of a grading that includes a timed MNIST run (seconds each): left out of the fast tier."""


def mnist_checks(exercise: str) -> set[str]:
    """The exercise's checks that train or evaluate on MNIST."""
    if exercise not in MNIST_EXERCISES:
        return set()
    return {name for name, _, _, _ in list_checks(get_exercise(exercise)) if "mnist" in name}


FAST_SAMPLE = {"bug": 2, "ok": 1}
"""Cases of each exercise's table graded in the fast tier (`-m "not slow"`): the first two
mistakes and the first correct alternative, by name; the full suite (.ci/run) grades them all."""


def case_params(root) -> list:
    """(exercise, verdict, root, checks) for each case of each exercise under `root`. A correct case
    of an MNIST exercise is graded twice: on every check but the MNIST run (fast tier), and on
    every check (slow); a case whose graded checks include an MNIST run is slow, and so is every
    case beyond the fast tier's sample."""
    params = []
    for exercise in EXERCISES:
        seen = {"bug": 0, "ok": 0}
        for case, verdict in sorted(readable_verdicts(exercise, root).items()):
            kind = "ok" if verdict.full_marks else "bug"
            seen[kind] += 1
            sampled = () if seen[kind] <= FAST_SAMPLE[kind] else (pytest.mark.slow,)
            name = f"{'corpus/' if root == CORPUS else ''}{exercise}/{case}"
            checks = checks_to_grade(verdict)
            mnist = mnist_checks(exercise)
            if mnist and verdict.full_marks:
                others = {n for n, _, _, _ in list_checks(get_exercise(exercise))} - mnist
                params.append(pytest.param(exercise, verdict, root, others, id=f"{name}/without-mnist-run",
                                           marks=sampled))
            slow = mnist and (checks is None or checks & mnist)
            params.append(pytest.param(exercise, verdict, root, checks, id=name, marks=MNIST_RUN if slow else sampled))
    return params


def checks_to_grade(verdict: Verdict) -> set[str] | None:
    """The checks a case's verdict is about: a buggy case without `also_fails` is judged on the one
    check its table names (its other checks, the timed MNIST runs included, say nothing about its
    mistake); a correct case, and one whose table pins the exact set of failing checks, on all (None)."""
    if verdict.full_marks or verdict.also_fails is not None:
        return None
    return {verdict.check}


@pytest.fixture
def course_data(monkeypatch):
    """use(exercise): tests (and CI) train exercises 4 and 7 on the course's copy of MNIST beside
    the repository (MNIST_DATA_DIR, grader/mnist.py's documented default)."""

    def use(exercise: str) -> None:
        if exercise in MNIST_EXERCISES:
            monkeypatch.setenv("MNIST_DATA_DIR", str(SHARED_MNIST))

    return use


@pytest.mark.parametrize("exercise", [pytest.param(e, marks=MNIST_RUN if e in MNIST_EXERCISES else ())
                                      for e in EXERCISES])
def test_reference_gets_full_marks(grade_reference, course_data, exercise):
    """Does the reference solution get every point (a timed MNIST run included)?"""
    course_data(exercise)
    assert_full_marks(grade_reference(exercise))


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_stub_scores_zero_with_not_implemented(grade, course_data, exercise):
    """Does the untouched handout score zero, every check saying 'not implemented yet'?"""
    course_data(exercise)
    assert_stub_scores_zero(grade(exercise, get_exercise(exercise).stub_path.parent))


@pytest.mark.parametrize("exercise, verdict, root, checks", case_params(CASES) + case_params(CORPUS))
def test_case_verdict(graded, course_data, exercise, verdict, root, checks):
    """Does each buggy case lose points on the check naming its mistake (and, where its table
    says so, on exactly the other checks it lists), and each correct one get full marks?
    tests/corpus/ holds realistic mistakes written from SPEC.md's text by another method than the
    cases (code right on the handout's examples, wrong elsewhere), to measure how the checks generalise."""
    course_data(exercise)
    result = graded(exercise, root / exercise / verdict.case, checks=checks)
    if verdict.full_marks:
        assert_full_marks(result)
        return
    assert_caught(result, verdict.check, verdict.words)
    if verdict.also_fails is not None:
        assert failed_checks(result) == {verdict.check, *verdict.also_fails}


def test_a_grading_run_selects_the_checks_it_is_given(grade):
    """Does `checks=` grade exactly the checks named (the others are not run, so they cost no
    time), and refuse a name that is no check rather than grade nothing?"""
    case = CASES / "exercise1" / "bug_softmax_axis1"
    result = grade("exercise1", case, checks={"softmax_vector", "cross_entropy_batch_labels"})
    assert sorted(c.name for c in result.checks) == ["cross_entropy_batch_labels", "softmax_vector"]
    assert failed_checks(result) == {"softmax_vector"} and result.max_score == sum(c.max_score for c in result.checks)
    with pytest.raises(ValueError, match="exercise1 has no check named softmax_vectr"):
        grade("exercise1", case, checks={"softmax_vectr"})


@pytest.mark.parametrize("root", [CASES, CORPUS], ids=["cases", "corpus"])
@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_verdicts_file_lists_every_case_folder(exercise, root):
    """Does the exercise's verdicts.toml read cleanly, with one entry per case folder and no other?"""
    verdicts = load_verdicts(exercise, root)
    assert set(verdicts) == {p.name for p in case_folders(get_exercise(exercise), root)}


# -- the reader refuses what it cannot read --------------------------------------------------------
CHECKS = {"softmax_vector", "softmax_batch_rows"}


def write_cases(root, text: str, folders=("bug_axis", "ok_loops")):
    exercise = root / "exercise1"
    for name in folders:
        (exercise / name).mkdir(parents=True)
    (exercise / "verdicts.toml").write_text(text)
    return root


def test_reader_gives_each_case_its_verdict(tmp_path):
    """Are a buggy case's check, words, why and also_fails, and a correct case's full marks, read as written?"""
    root = write_cases(tmp_path, '[bug_axis]\ncheck = "softmax_vector"\nwords = "axis=-1"\nwhy = "hard-codes axis=1"\n'
                                 'also_fails = ["softmax_batch_rows"]\n\n[ok_loops]\nfull_marks = true\n')
    verdicts = load_verdicts("exercise1", root, check_names=CHECKS)
    assert verdicts["bug_axis"] == Verdict("bug_axis", "softmax_vector", "axis=-1", "hard-codes axis=1",
                                           frozenset({"softmax_batch_rows"}))
    assert verdicts["ok_loops"].full_marks and verdicts["ok_loops"].check is None
    assert not verdicts["bug_axis"].full_marks


@pytest.mark.parametrize("text, entry, words", [
    ('[bug_axis]\ncheck = "softmax_vector"\nword = "axis"\n', "[bug_axis]", "unknown key word"),
    ('[bug_axis]\ncheck = "softmax_vector"\n', "[bug_axis]", "missing words"),
    ('[bug_axis]\nwords = "axis"\n', "[bug_axis]", "missing check"),
    ('[bug_axis]\ncheck = "softmax_vector"\nwords = ""\n', "[bug_axis]", "words must be a non-empty string"),
    ('[bug_axis]\nfull_marks = true\n', "[bug_axis]", "must lose points"),
    ('[bug_axis]\ncheck = "softmax_rows"\nwords = "axis"\n', "[bug_axis]", "'softmax_rows' is not a check"),
    ('[bug_axis]\ncheck = "softmax_vector"\nwords = "axis"\nalso_fails = ["nope"]\n', "[bug_axis]",
     "also_fails names nope"),
    ('[ok_loops]\ncheck = "softmax_vector"\nwords = "axis"\n', "[ok_loops]", "gets full_marks = true"),
    ('[ok_loops]\nfull_marks = false\n', "[ok_loops]", "full_marks can only be true"),
    ('bug_axis = "softmax_vector"\n', "[bug_axis]", "must be a table"),
])
def test_reader_names_the_file_and_entry_it_cannot_read(tmp_path, text, entry, words):
    """Is an entry that cannot be read as meant refused with the file, the entry and the reason?"""
    correct = {"[bug_axis]": '[ok_loops]\nfull_marks = true\n', "[ok_loops]":
               '[bug_axis]\ncheck = "softmax_vector"\nwords = "axis"\n'}[entry]
    root = write_cases(tmp_path, text + "\n" + correct)
    with pytest.raises(VerdictsError) as caught:
        load_verdicts("exercise1", root, check_names=CHECKS)
    message = str(caught.value)
    assert str(root / "exercise1" / "verdicts.toml") in message and entry in message and words in message


@pytest.mark.parametrize("folders, words", [
    (("bug_axis", "ok_loops", "bug_new"), "no entry for the case folder(s) bug_new"),
    (("bug_axis",), "[ok_loops]: no case folder of that name"),
])
def test_reader_refuses_a_table_that_differs_from_the_case_folders(tmp_path, folders, words):
    """Is a case folder without an entry, or an entry without a folder, refused by name?"""
    root = write_cases(tmp_path, '[bug_axis]\ncheck = "softmax_vector"\nwords = "axis"\n\n[ok_loops]\n'
                                 'full_marks = true\n', folders)
    with pytest.raises(VerdictsError, match="verdicts.toml") as caught:
        load_verdicts("exercise1", root, check_names=CHECKS)
    assert words in str(caught.value)


def test_reader_refuses_a_missing_or_broken_file(tmp_path):
    """Are case folders without a verdicts.toml, or a file that is not TOML, refused by the file's name?"""
    (tmp_path / "exercise1" / "bug_axis").mkdir(parents=True)
    with pytest.raises(VerdictsError, match="verdicts.toml: missing"):
        load_verdicts("exercise1", tmp_path, check_names=CHECKS)
    (tmp_path / "exercise1" / "verdicts.toml").write_text("[bug_axis\n")
    with pytest.raises(VerdictsError, match="verdicts.toml: not valid TOML"):
        load_verdicts("exercise1", tmp_path, check_names=CHECKS)
    assert load_verdicts("exercise2", tmp_path, check_names=CHECKS) == {}
