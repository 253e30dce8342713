"""The students' bundle: what is in it, what is not, and that a student can install it and grade."""

import ast
import functools
import importlib
import json
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.catalog import EXERCISES, PROJECT_ROOT, get_exercise
from grader.cli import main
from grader.course.notebooks import notebook_text
from grader.course.release import (ReleaseError, build_release, course_project, dependency_names, read_toml,
                                   remove_functions)

READY = [e for e in EXERCISES.values() if e.stub_path.exists() and e.reference_path.exists()
         and (e.checks_dir / "test_public.py").exists()]
EXERCISE1 = get_exercise("exercise1")


@pytest.fixture(scope="module")
def course_bundle(tmp_path_factory):
    """Every ready exercise, without recorded answers (quick): for what the bundle holds."""
    return build_release(tmp_path_factory.mktemp("course"), record=False).folder


@pytest.fixture(scope="module")
def student_release(tmp_path_factory):
    """Exercise 1 released as the instructor does, with the reference's own answers only."""
    out = tmp_path_factory.mktemp("release")
    result = CliRunner().invoke(main, ["release", "--out", str(out), "--exercise", "exercise1", "--no-cases"])
    assert result.exit_code == 0, result.output
    return out / "dlcourse"


# -- what is in the bundle -------------------------------------------------------------------------
def normalised(source: str, strings: bool = True) -> str:
    """Code with formatting and comments gone (ast.unparse, each line stripped); without the
    text of its string literals when `strings` is False."""
    tree = ast.parse(source)
    if not strings:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                node.value = ""
    return "\n".join(line.strip() for line in ast.unparse(tree).splitlines())


def function_bodies(source: str) -> dict[str, str]:
    """qualified name -> normalised body (docstring left out) of every function and method."""
    bodies = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)):
            continue
        for child in node.body:
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = child.body[1:] if ast.get_docstring(child) is not None else child.body
                if body:
                    bodies[f"{getattr(node, 'name', '')}.{child.name}"] = normalised(
                        "\n".join(ast.unparse(statement) for statement in body))
    return bodies


@functools.lru_cache(maxsize=4)
def bundle_texts(folder: Path) -> dict[str, tuple[str, str]]:
    """Every file of the bundle (and of its zip) as (all its text, its code alone) to search: code
    normalised, notebooks by their code cells, binary files decoded leniently."""
    texts = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        texts[str(path)] = searchable(path.name, path.read_bytes())
    archive = folder.with_suffix(".zip")
    if archive.exists():
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                texts[f"{archive}:{name}"] = searchable(name, zf.read(name))
    return texts


def searchable(name: str, data: bytes) -> tuple[str, str]:
    text = data.decode("utf-8", errors="replace")
    if name.endswith(".ipynb"):
        cells = ["".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code"]
        name, text = "cells.py", "\n".join(c for c in cells if not c.startswith("!"))
    if name.endswith(".py"):
        code = normalised(text, strings=False)
        return normalised(text) + "\n" + text, code
    return text, text


def is_short(body: str) -> bool:
    """A one-line body (`return dout * self.mask`) that a check's hint may quote on purpose."""
    return "\n" not in body and len(body) < 40


def solution_bodies() -> dict[str, str]:
    """Bodies of every reference function that differ from the stub's (what students must write)."""
    found = {}
    for exercise in READY:
        stub = function_bodies(exercise.stub_path.read_text())
        for name, body in function_bodies(exercise.reference_path.read_text()).items():
            if stub.get(name) != body:
                found[f"{exercise.name}:{name}"] = body
    return found


def hidden_check_names() -> set[str]:
    public = set()
    for exercise in EXERCISES.values():
        for path in exercise.checks_dir.glob("test_public.py"):
            public |= {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
    hidden = set()
    for exercise in EXERCISES.values():
        for path in exercise.checks_dir.glob("test_hidden.py"):
            hidden |= {n.name for n in ast.parse(path.read_text()).body
                       if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    return hidden - public


@pytest.mark.bundle
@pytest.mark.slow
@pytest.mark.parametrize("which", ["course_bundle", "student_release"])
def test_no_reference_code_in_the_bundle(request, which):
    """Is no reference solution's function body anywhere in the bundle or its zip, in any form?"""
    texts = bundle_texts(request.getfixturevalue(which))
    bodies = solution_bodies()
    assert len(bodies) >= 3 * len(READY)  # the search below searches for something
    leaks = [(name, path) for name, body in bodies.items() for path, (text, code) in texts.items()
             if body in (code if is_short(body) else text)]
    assert not leaks, leaks
    assert not [p for p in texts if "/reference/" in p or p.endswith("/reference")]


@pytest.mark.bundle
@pytest.mark.slow
@pytest.mark.parametrize("which", ["course_bundle", "student_release"])
def test_no_hidden_check_in_the_bundle(request, which):
    """Does no file of the bundle name a hidden check (nor is any test_hidden.py there)?"""
    texts = bundle_texts(request.getfixturevalue(which))
    names = hidden_check_names()
    assert names
    pattern = re.compile(r"\b(" + "|".join(sorted(names)) + r")\b")
    leaks = [(match.group(1), path) for path, (text, _) in texts.items() for match in [pattern.search(text)] if match]
    assert not leaks, leaks
    assert not [p for p in texts if "hidden" in Path(p.split(":")[-1]).name]


@pytest.mark.bundle
@pytest.mark.slow
def test_bundle_layout(course_bundle):
    """Stubs as they are, notebooks as generated from them, public checks, and a project to install?"""
    for exercise in READY:
        stub = course_bundle / "exercises" / exercise.name / exercise.stub_path.name
        assert stub.read_bytes() == exercise.stub_path.read_bytes()
        notebook = course_bundle / "notebooks" / f"{exercise.name}.ipynb"
        assert notebook.read_text() == notebook_text(exercise)
        assert (course_bundle / "grader" / "checks" / exercise.name / "test_public.py").exists()
    pyproject = (course_bundle / "pyproject.toml").read_text()
    assert 'grade = "grader.cli:' in pyproject and '"exercises*"' in pyproject
    manifest = json.loads((course_bundle / "RELEASE.json").read_text())
    assert {e["name"] for e in manifest["exercises"] if not e["skipped"]} == {e.name for e in READY}
    with zipfile.ZipFile(course_bundle.with_suffix(".zip")) as zf:
        zipped = {n for n in zf.namelist() if not n.endswith("/")}
    on_disk = {str(p.relative_to(course_bundle.parent)) for p in course_bundle.rglob("*") if p.is_file()}
    assert zipped == on_disk


@pytest.mark.bundle
@pytest.mark.slow
def test_bundle_installs_what_the_course_project_declares(course_bundle):
    """Does the bundle's pyproject.toml ask for the course's own dependencies and Pythons, and
    install a `grade` command that exists, with its README naming every dependency?"""
    course = read_toml((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    bundle = read_toml((course_bundle / "pyproject.toml").read_text())["project"]
    assert bundle["dependencies"] == course["dependencies"] and bundle["dependencies"]
    assert bundle["requires-python"] == course["requires-python"]
    assert bundle["scripts"]["grade"] == course["scripts"]["grade"]
    module, _, function = bundle["scripts"]["grade"].partition(":")
    assert callable(getattr(importlib.import_module(module), function))
    readme = (course_bundle / "README.md").read_text()
    for dependency in course["dependencies"]:
        name = re.match(r"[A-Za-z0-9._-]+", dependency).group()
        assert re.search(rf"\b{re.escape(name)}\b", readme), name


def write_pyproject(folder: Path, text: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(text)
    return path


def test_pyproject_is_read_with_tomli_where_tomllib_is_missing(monkeypatch, tmp_path):
    """On Python 3.10 (no tomllib), is pyproject.toml read with tomli when it is installed?"""
    import tomllib

    monkeypatch.setitem(sys.modules, "tomllib", None)  # `import tomllib` now fails, as on 3.10
    monkeypatch.setitem(sys.modules, "tomli", tomllib)  # tomli is where tomllib came from: the same API
    path = write_pyproject(tmp_path, '[project]\nrequires-python = ">=3.10"\ndependencies = ["numpy>=1.24"]\n'
                                     '[project.scripts]\ngrade = "grader.cli:run"\n')
    project = course_project(path)
    assert project.dependencies == ["numpy>=1.24"] and project.grade_entry_point == "grader.cli:run"


def test_pyproject_without_a_toml_reader_is_an_error_that_says_what_to_install(monkeypatch):
    """With neither tomllib nor tomli, does release stop with a message naming tomli rather
    than write a bundle with made-up dependencies or command?"""
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(ReleaseError, match="pip install tomli"):
        course_project()


def test_pyproject_without_the_grade_command_is_an_error(tmp_path):
    """Is a course pyproject.toml that lacks what the bundle copies an error, not a guess?"""
    path = write_pyproject(tmp_path, '[project]\nrequires-python = ">=3.10"\ndependencies = []\n')
    with pytest.raises(ReleaseError, match="scripts"):
        course_project(path)


def test_readme_says_which_dependencies_only_some_pythons_need():
    """Does the README's list of packages to have installed say when one is for some Pythons only?"""
    names = dependency_names(["numpy>=1.24", "jinja2[i18n]>=3.1", "tomli; python_version<'3.11'"])
    assert names == ["numpy", "jinja2", "tomli (where python_version<'3.11')"]


def test_release_replaces_only_a_previous_bundle(tmp_path):
    """Does release refuse to wipe a folder that is not one of its own bundles?"""
    (tmp_path / "dlcourse").mkdir()
    (tmp_path / "dlcourse" / "notes.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="not a previous release"):
        build_release(tmp_path, ["exercise1"], record=False)
    assert (tmp_path / "dlcourse" / "notes.txt").exists()


def test_kept_back_checks_are_removed_whole():
    """Are kept-back checks removed with their decorators, and nothing else?"""
    source = ("import x\n\n\n@public(points=1)\ndef test_a(student):\n    pass\n\n\n"
              "@public(points=2)\n@other\ndef test_b(student):\n    return 1\n\n\ndef helper():\n    pass\n")
    kept = remove_functions(source, {"test_b"})
    tree = ast.parse(kept)
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["test_a", "helper"]
    assert "@other" not in kept and "test_b: runs only when your instructor grades" in kept


# -- as a student ----------------------------------------------------------------------------------
def run(command: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def install_offline(zipped: Path, where: Path, editable: bool = True) -> tuple[Path, Path, dict]:
    """Unzip a bundle and install it offline into a fresh virtual environment, as a student without
    internet access would: `pip install --no-build-isolation -e .` in the folder, or (editable
    False) `pip install --no-build-isolation dlcourse.zip`; (course folder, venv, environment)."""
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(where)
    course = where / zipped.stem
    venv = where / "venv"
    assert run([sys.executable, "-m", "venv", "--without-pip", str(venv)], where).returncode == 0
    python = venv / "bin" / "python"
    # numpy, torch, click... come from this interpreter's site-packages (a venv or not), listed in a
    # .pth file; this project's own editable install there is not loaded (its .pth is not read).
    own_site = run([str(python), "-c", "import site; print(site.getsitepackages()[0])"], where).stdout.strip()
    (Path(own_site) / "_course_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS="", PATH=f"{venv / 'bin'}:{env['PATH']}")
    target = ["-e", "."] if editable else [str(zipped)]
    installed = run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-build-isolation",
                     "--no-index", "-q", *target], course, env)
    assert installed.returncode == 0, installed.stderr[-2000:]
    where_from = run([str(python), "-c", "import grader, importlib.util as u; "
                      "print(grader.__file__, u.find_spec('reference'))"], where, env).stdout
    home = course / "grader" if editable else venv
    assert where_from.startswith(str(home)) and where_from.rstrip().endswith("None"), where_from
    return course, venv, env


@pytest.fixture(scope="module")
def installed_student_release(student_release, tmp_path_factory):
    return install_offline(student_release.with_suffix(".zip"), tmp_path_factory.mktemp("student"))


@pytest.mark.bundle
@pytest.mark.slow
@pytest.mark.parametrize("isolation", ["auto", pytest.param("local", marks=pytest.mark.skipif(
    os.geteuid() == 0, reason="a root grader refuses the `local` level (it cannot switch users)"))])
def test_student_installs_offline_and_grades(installed_student_release, isolation):
    """Installed offline, does `grade exercise1` (at `auto`, and at the portable `local` level a
    Mac or Windows laptop gets) score the stub zero on the public checks only, the reference
    pasted in all of them, tell the student hidden checks run when the instructor grades, and
    not offer the instructor's commands?"""
    course, venv, env = installed_student_release
    grade = str(venv / "bin" / "grade")
    own_copy = course / "exercises" / "exercise1" / "losses.py"
    shutil.copy(EXERCISE1.stub_path, own_copy)
    stub = run([grade, "exercise1", "--isolation", isolation, "--json", "stub.json"], course, env)
    assert stub.returncode == 0, stub.stderr[-2000:]
    assert "Hidden checks run when your instructor grades" in stub.stdout
    result = json.loads((course / "stub.json").read_text())
    assert result["score"] == 0 and result["max_score"] > 0
    assert result["isolation"] != "local" if isolation == "auto" else result["isolation"] == "local"
    assert {c["visibility"] for c in result["checks"]} == {"public"}
    assert all("not implemented yet" in c["message"] for c in result["checks"])

    shutil.copy(EXERCISE1.reference_path, own_copy)
    solved = run([grade, "exercise1", "--isolation", isolation, "--json", "solved.json"], course, env)
    result = json.loads((course / "solved.json").read_text())
    assert result["score"] == result["max_score"] == len(result["checks"]) > 0, solved.stdout
    assert "Hidden checks run when your instructor grades" in solved.stdout
    assert ("feedback for you, not your instructor's grade" in solved.stdout) is (isolation == "local")

    helped = run([grade, "--help"], course, env)
    assert "release" not in helped.stdout and "check-course" not in helped.stdout
    refused = run([grade, "release", "--out", "x"], course, env)
    assert refused.returncode == 2 and "for instructors" in refused.stderr


EXERCISE7 = get_exercise("exercise7")
SHARED_MNIST = PROJECT_ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="module")
def exercise7_release(tmp_path_factory):
    """Exercise 7 released as the instructor does (the reference's own answers only: quicker)."""
    out = tmp_path_factory.mktemp("release7")
    result = CliRunner().invoke(main, ["release", "--out", str(out), "--exercise", "exercise7", "--no-cases"])
    assert result.exit_code == 0, result.output
    return out / "dlcourse"


@pytest.mark.mnist
@pytest.mark.bundle
@pytest.mark.slow
@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="the course's MNIST copy ../shared/data/mnist is absent")
def test_exercise7_runs_every_public_check_in_the_bundle(exercise7_release, tmp_path):
    """Issue 11: does RELEASE.json keep back none of exercise 7's public checks, and, installed
    offline, does `grade exercise7` give the reference pasted into the stub every public point
    (the MNIST check untimed, against the recorded reference accuracy), the stub none, and a
    case that forgets optimizer.zero_grad() not the training-loop check's points?"""
    from grader.checks.runner import list_checks

    released = json.loads((exercise7_release / "RELEASE.json").read_text())
    entry = next(e for e in released["exercises"] if e["name"] == "exercise7")
    public = {name for name, _, _, _ in list_checks(EXERCISE7, "public")}
    assert entry["kept_back"] == {} and set(entry["public_checks"]) == public and len(public) == 16, entry
    course, venv, env = install_offline(exercise7_release.with_suffix(".zip"), tmp_path)
    env["MNIST_DATA_DIR"] = str(SHARED_MNIST)
    grade = str(venv / "bin" / "grade")
    own_copy = course / "exercises" / "exercise7" / "torch_training.py"
    results = {}
    for label, source in (("stub", EXERCISE7.stub_path), ("reference", EXERCISE7.reference_path),
                          ("no_zero_grad", PROJECT_ROOT / "tests" / "cases" / "exercise7" / "bug_no_zero_grad")):
        target = ["--submission", str(source)] if source.is_dir() else []
        if not target:
            shutil.copy(source, own_copy)
        done = run([grade, "exercise7", "--device", "cpu", *target, "--json", f"{label}.json"], course, env)
        assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
        results[label] = json.loads((course / f"{label}.json").read_text())
    reference = results["reference"]
    assert {c["name"] for c in reference["checks"]} == public, reference["checks"]
    assert reference["score"] == reference["max_score"] > 0, [c for c in reference["checks"] if not c["passed"]]
    assert {c["visibility"] for c in reference["checks"]} == {"public"}
    assert results["stub"]["score"] == 0
    by_name = {c["name"]: c for c in results["no_zero_grad"]["checks"]}
    assert not by_name["train_one_epoch_updates_like_sgd"]["passed"], by_name["train_one_epoch_updates_like_sgd"]


@pytest.mark.bundle
@pytest.mark.slow
def test_student_installs_the_zip_not_editable_and_grades(student_release, tmp_path):
    """Installed from the zip itself (`pip install dlcourse.zip`, no editable link to the folder),
    does `grade exercise1` in a course folder holding the student's exercises/ find its checks,
    recorded answers and templates in the installed package: the stub 0, the reference every
    public point, the HTML report written, and the isolation level named?"""
    _, venv, env = install_offline(student_release.with_suffix(".zip"), tmp_path / "install", editable=False)
    course = tmp_path / "my-course"
    (course / "exercises" / "exercise1").mkdir(parents=True)
    own_copy = course / "exercises" / "exercise1" / "losses.py"
    grade = str(venv / "bin" / "grade")
    for source, full in ((EXERCISE1.stub_path, False), (EXERCISE1.reference_path, True)):
        shutil.copy(source, own_copy)
        done = run([grade, "exercise1", "--json", "r.json", "--html", "r.html"], course, env)
        assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
        result = json.loads((course / "r.json").read_text())
        assert result["max_score"] > 0 and result["score"] == (result["max_score"] if full else 0), done.stdout
        assert f"isolation: {result['isolation']}" in done.stdout
        assert "data-total" in (course / "r.html").read_text()


def readme_commands(readme: str) -> list[str]:
    """The commands a bundle's README tells students to run: its indented command lines (without
    their comments) and the commands it names inline (`grade list`)."""
    lines = [re.sub(r"\s+#.*$", "", m) for m in re.findall(r"^    ((?:grade|pip) .*)$", readme, re.MULTILINE)]
    inline = re.findall(r"`((?:grade|pip) [^`]+)`", readme)
    return list(dict.fromkeys(lines + inline))


def test_readme_commands_are_found():
    """Does readme_commands find what a README says to run, comments cut, each once?"""
    readme = ("Install:\n\n    pip install -e .\n\nthen\n\n    grade exercise1      # checks it\n"
              "\n`grade list` shows them; `grade exercise1` again.\n")
    assert readme_commands(readme) == ["pip install -e .", "grade exercise1", "grade list"]


@pytest.mark.bundle
@pytest.mark.slow
def test_every_command_in_the_readme_runs_in_the_installed_bundle(course_bundle, tmp_path):
    """Installed offline with every exercise, does each command the bundle's README names run
    without a traceback (`grade list` used to crash at exercise 4 on the reference's stand-ins)?"""
    course, venv, env = install_offline(course_bundle.with_suffix(".zip"), tmp_path)
    commands = readme_commands((course / "README.md").read_text())
    grades = [c for c in commands if c.startswith("grade ")]
    assert "grade list" in grades and len(grades) >= 3, commands
    # the pip commands: install_offline ran the offline one; the other needs a package index
    assert {c for c in commands if c.startswith("pip ")} == {
        "pip install dlcourse.zip", "pip install .", "pip install --no-build-isolation dlcourse.zip"}
    for command in grades:
        done = run([str(venv / "bin" / "grade"), *command.split()[1:]], course, env)
        screen = done.stdout + done.stderr
        assert done.returncode == 0 and "Traceback" not in screen, f"{command}:\n{screen[-2000:]}"
    listed = run([str(venv / "bin" / "grade"), "list"], course, env).stdout
    assert all(exercise.name in listed for exercise in READY), listed


GRADE_CASES = """
import json, sys
from pathlib import Path
from grader.catalog import get_exercise
from grader.pipeline import grade_submission
from grader.sandbox.launcher import Launcher
exercise = get_exercise(sys.argv[1])
out = {}
with Launcher(exercise) as launcher:
    for path in sys.argv[2:]:
        result = grade_submission(exercise.name, Path(path), launcher=launcher, visibility="public")
        out[Path(path).name] = {c.name: [c.status, c.message] for c in result.checks}
json.dump(out, sys.stdout)
"""


@pytest.mark.bundle
@pytest.mark.slow
@pytest.mark.parametrize("exercise, release", [("exercise1", "student_release"),
                                               pytest.param("exercise7", "exercise7_release", marks=pytest.mark.mnist)])
def test_bundle_never_passes_a_mistake_nor_fails_a_right_answer(request, exercise, release):
    """Graded in the bundle (answers recorded from the reference alone), does every correct case
    pass, and every public check that catches a buggy case in the course repository still not pass?
    (Exercise 7: every public check runs in the bundle, the MNIST one untimed.)"""
    if exercise == "exercise7" and not SHARED_MNIST.is_dir():
        pytest.skip("the course's MNIST copy ../shared/data/mnist is absent")
    student_release = request.getfixturevalue(release)
    cases = sorted(p for p in (PROJECT_ROOT / "tests" / "cases" / exercise).iterdir() if p.is_dir())
    verdicts = {}
    for where in (PROJECT_ROOT, student_release):
        env = dict(os.environ, PYTHONPATH=str(where), MNIST_DATA_DIR=str(SHARED_MNIST))
        done = run([sys.executable, "-c", GRADE_CASES, exercise, *map(str, cases)], where, env)
        assert done.returncode == 0, done.stderr[-2000:]
        verdicts[where] = json.loads(done.stdout)
    repo, bundle = verdicts[PROJECT_ROOT], verdicts[student_release]
    for case in repo:
        for check, (status, _) in repo[case].items():
            there = bundle[case][check]
            if status == "passed":
                assert there[0] == "passed" or "could not run here" in there[1], (case, check, there)
            else:
                assert there[0] != "passed", (case, check)
        if case.startswith("ok_"):
            assert all(v[0] == "passed" for v in bundle[case].values()), (case, bundle[case])


def test_other_exercises_resolve_to_the_students_own(tmp_path, monkeypatch):
    """Without references (the bundle), does `exercises.exercise1.losses` in the sandbox come from the
    student's own exercises/ folder, and from the reference in the course repository?"""
    from grader import catalog
    from grader.sandbox.launcher import other_exercise_source

    assert other_exercise_source(EXERCISE1) == EXERCISE1.reference_path
    own = tmp_path / "exercises" / "exercise1" / "losses.py"
    own.parent.mkdir(parents=True)
    own.write_text("def softmax(x):\n    return x\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(catalog, "REFERENCE_ROOT", tmp_path / "no-reference")
    monkeypatch.setattr(catalog, "EXERCISES_ROOT", tmp_path / "installed")
    moved = get_exercise("exercise1")
    assert other_exercise_source(moved).resolve() == own.resolve()
    own.unlink()
    assert other_exercise_source(moved) is None  # no stub installed there either: nothing to import


# -- the recorded answers ----------------------------------------------------------------------------
FAKE_REFERENCE = """
import numpy as np

SCALE = 2.0

def double(x):
    return SCALE * x

def noise(n):
    return np.random.randn(n)

def step(params, grads):
    for key in params:
        params[key] -= grads[key]

class Counter:
    def __init__(self, start):
        self.value = start

    def add(self, x):
        self.value = self.value + x
        return self.value
"""


def test_recorded_answers_follow_each_objects_history(tmp_path):
    """Replayed in another order, do objects answer by their own history, in-place updates and random
    draws replay, values within float noise match, and an unrecorded question says so?"""
    import types

    import numpy as np

    from grader.course.oracle import ORACLE_FILE, ReferenceUnavailable
    from grader.course.oracle.data import save
    from grader.course.oracle.record import RecordedModule, Recorder
    from grader.course.oracle.replay import Replayer, ReplayModule

    real = types.ModuleType("reference.fake.mod")
    exec(FAKE_REFERENCE, real.__dict__)
    recorder = Recorder()
    ref = RecordedModule(recorder, "reference.fake.mod", real)
    a = ref.Counter(1)
    assert (a.add(2), a.add(3)) == (3, 6)
    b = ref.Counter(10)
    assert b.add(1) == 11
    x = np.array([1.0, 2.0, 3.0])
    ref.double(x)
    np.random.seed(0)
    drawn = ref.noise(3)
    params = {"w": np.array([1.0, 1.0])}
    ref.step(params, {"w": np.array([0.5, 0.25])})
    assert ref.SCALE == 2.0
    (tmp_path / "exercise0").mkdir()
    save(recorder.data("exercise0"), tmp_path / "exercise0" / ORACLE_FILE)

    replay = ReplayModule(Replayer(tmp_path), "reference.fake.mod")
    b2, a2 = replay.Counter(10), replay.Counter(1)  # created, and asked, in another order
    assert b2.add(1) == 11 and a2.add(2) == 3 and a2.add(3) == 6
    assert np.allclose(replay.double(x * (1 + 1e-12)), 2 * x)
    np.random.seed(0)
    assert np.array_equal(replay.noise(3), drawn)
    assert np.array_equal(np.random.rand(2), (np.random.seed(0), np.random.randn(3), np.random.rand(2))[2])
    mine = {"w": np.array([1.0, 1.0])}
    replay.step(mine, {"w": np.array([0.5, 0.25])})
    assert np.array_equal(mine["w"], params["w"])
    assert replay.SCALE == 2.0
    other = replay.Counter(1)
    with pytest.raises(ReferenceUnavailable, match="differ from the reference's own"):
        other.add(5)  # never asked with 5 after Counter(1)
    with pytest.raises(ValueError, match="could not run here"):
        replay.double(x + 1.0)


def test_a_check_that_times_the_reference_is_kept_back():
    """Is a check that reads the clock around a reference call marked as needing the reference (a
    recorded answer takes no time), and one that only calls it not?"""
    import time
    import types

    from grader.checks.api import running_check
    from grader.course.oracle.record import RecordedModule, Recorder

    real = types.ModuleType("reference.fake.mod")
    exec(FAKE_REFERENCE, real.__dict__)
    recorder = Recorder()
    ref = RecordedModule(recorder, "reference.fake.mod", real)
    check = {"__name__": "grader.checks.exercise0.test_public", "ref": ref, "time": time}
    recorder._watch_clocks()
    try:
        with running_check("untimed", {}):
            exec("start = time.perf_counter()\nref.double(1.0)", check)
        with running_check("timed", {}):
            exec("start = time.perf_counter()\nref.double(2.0)\nseconds = time.perf_counter() - start", check)
    finally:
        recorder.restore_clocks()
    assert "times the reference" in recorder.problems.get("timed", "")
    assert "untimed" not in recorder.problems
