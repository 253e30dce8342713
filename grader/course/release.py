"""`grade release --out DIR`: the bundle students receive, and nothing they must not see.

DIR/dlcourse/ (and DIR/dlcourse.zip of it) holds:

    pyproject.toml        how the wheel below was built (`pip install .` also works, online)
    wheelhouse/dlcourse-VERSION-py3-none-any.whl   the bundle built as a wheel: what students
                          install (README.md): a wheel needs no build backend, so the same line
                          works offline, from a wheelhouse, on any Python the course supports
    README.md             how to install, work, and check, for students, in the release's
                          language (`grade release --lang ko|en`)
    RELEASE.json          what was released: exercises, public checks, checks kept back
    exercises/exerciseN/  the stubs, exactly as in the course repository
    notebooks/exerciseN.ipynb   the same stubs as notebooks (grader/course/notebooks.py)
    grader/               the grading engine, with each released exercise's public checks only:
                          no test_hidden.py (nor any other file named *hidden*), no reference/,
                          and the checks of exercises not released left out

The public checks compare with the reference, which the bundle does not contain: release runs
them against the reference, and against the cases of tests/cases/exerciseN/ (for the diagnoses
failing checks ask for), recording the reference's answers (grader/course/oracle/); in the bundle,
`reference.*` imports answer from those recordings. A public check that cannot be replayed
(it calls the reference from inside the student's code, for instance) is left out of the
bundle and listed in RELEASE.json and README.md: it runs when the instructor grades. Release
then grades the reference with the bundle's own grader, as a student would, and leaves out any
public check that does not pass there either.

When a student grades exercise N at home, the other exercises its module imports
(`from exercises.exercise1.losses import softmax`) resolve to the student's own
exercises/exerciseK/ files (grader/sandbox/launcher.py), since there is no reference: one
mistake may then cost points twice at home, never when the instructor grades.

The bundle is built in DIR/.dlcourse.partial and renamed when complete, so a failed release
leaves the previous bundle as it was.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from grader import __version__
from grader.catalog import EXERCISES, PROJECT_ROOT, Exercise, get_exercise
from grader.course.oracle import ORACLE_FILE
from grader.i18n import _
from grader.results import GradeResult, shorten

BUNDLE_NAME = "dlcourse"
GRADER_ROOT = PROJECT_ROOT / "grader"
SKIP_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store"}
HOOK_MARK = "# -- student bundle --"


class ReleaseError(RuntimeError):
    """The bundle cannot be written (e.g. the output folder holds something else)."""


@dataclass
class ReleasedExercise:
    name: str
    public_checks: list[str] = field(default_factory=list)
    kept_back: dict[str, str] = field(default_factory=dict)
    """Public checks left out of the bundle -> why (they run when the instructor grades)."""
    skipped: str = ""
    """Why the whole exercise is not in the bundle (no stub, reference or public checks yet)."""


@dataclass
class Release:
    folder: Path
    archive: Path | None
    exercises: list[ReleasedExercise]

    @property
    def released(self) -> list[ReleasedExercise]:
        return [e for e in self.exercises if not e.skipped]


def missing_parts(exercise: Exercise) -> str:
    """Why `exercise` cannot be released yet, or "" when it can."""
    missing = [what for what, path in (("stub", exercise.stub_path), ("reference", exercise.reference_path),
                                       ("public checks", exercise.checks_dir / "test_public.py"))
               if not path.exists()]
    return f"no {', '.join(missing)} yet" if missing else ""


def build_release(out: Path, exercises: list[str] | None = None, *, name: str = BUNDLE_NAME,
                  record: bool = True, record_cases: bool = True, verify: bool = True, archive: bool = True,
                  isolation: str = "auto",
                  progress: Callable[[str], None] | None = None) -> Release:
    """Write the students' bundle to out/name (and out/name.zip).

    record=False skips recording the reference's answers (the public checks then cannot run
    in the bundle): only for quick structural builds. record_cases also records the answers
    failing checks get for the cases in tests/cases/exerciseN/ (the diagnoses of common
    mistakes). verify grades the reference with the bundle's own grader and leaves out public
    checks that fail there.
    """
    say = progress or (lambda message: None)
    chosen = [get_exercise(n) for n in exercises] if exercises else list(EXERCISES.values())
    folder = Path(out) / name
    _check_replaceable(folder)
    work = Path(out) / f".{name}.partial"  # a failed release never leaves half a bundle behind
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        report = _build(work, chosen, record, record_cases, verify, isolation, say)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if folder.exists():
        shutil.rmtree(folder)
    work.rename(folder)
    return Release(folder, _zip(folder) if archive else None, report)


def _build(folder: Path, chosen: list[Exercise], record: bool, record_cases: bool, verify: bool, isolation: str,
           say: Callable[[str], None]) -> list[ReleasedExercise]:
    report = [ReleasedExercise(e.name, skipped=missing_parts(e)) for e in chosen]
    released = [get_exercise(r.name) for r in report if not r.skipped]
    _copy_grader(folder, {e.name for e in released})
    _copy_exercises(folder, released)
    for entry in report:
        if entry.skipped:
            say(_("{exercise}: skipped ({why})").format(exercise=entry.name, why=entry.skipped))
            continue
        exercise = get_exercise(entry.name)
        entry.public_checks = _public_check_names(exercise)
        if record:
            say(_("{exercise}: recording the reference's answers to {count} public checks").format(
                exercise=entry.name, count=len(entry.public_checks)))
            _record(exercise, folder, entry, isolation, record_cases)
    if record and verify:
        for entry in report:
            if not entry.skipped:
                say(_("{exercise}: grading the reference with the bundle's grader").format(exercise=entry.name))
                _verify(get_exercise(entry.name), folder, entry, isolation)
    for entry in report:
        if not entry.skipped and not entry.public_checks:
            _withdraw(get_exercise(entry.name), folder, entry)
    _write_project_files(folder, report)
    _build_wheel(folder)
    return report


# -- copying ------------------------------------------------------------------------------------
def _check_replaceable(folder: Path) -> None:
    """A previous bundle may be replaced, never other files."""
    if folder.exists() and not (folder / "RELEASE.json").exists():
        raise ReleaseError(_("{folder} exists and is not a previous release; choose another --out").format(
            folder=folder))


def is_secret(path: Path) -> bool:
    """Hidden checks and anything named like them never leave the instructor's machine."""
    return "hidden" in path.name.lower()


def _public_catalogs(grader: Path) -> None:
    """The bundle keeps only compiled catalogs (no .po or .pot sources), and each exercise's
    catalog holds only the messages of the checks that ship: a hidden check's hints (some name
    the reference's own code) never leave with the translations."""
    from babel.messages.extract import extract_from_file
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    shutil.rmtree(grader / "locale" / "templates", ignore_errors=True)
    for po in sorted((grader / "locale").glob("*/LC_MESSAGES/*.po")):
        if po.stem in EXERCISES:
            shipped = grader / "checks" / po.stem
            said = {message[0] if isinstance(message, tuple) else message
                    for file in sorted(shipped.glob("*.py"))
                    for _line, message, _comments, _context in extract_from_file(
                        "python", str(file), keywords={"_": None, "N_": None, "ngettext": (1, 2)})}
            with po.open("rb") as handle:
                catalog = read_po(handle)
            for message in list(catalog):
                key = message.id[0] if isinstance(message.id, tuple) else message.id
                if key and key not in said:
                    del catalog[message.id]
            with po.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=True)
        po.unlink()


def _copy_grader(folder: Path, released: set[str]) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        skip = {n for n in names if n in SKIP_NAMES or n.endswith((".pyc", ".pyo")) or is_secret(here / n)}
        if here == GRADER_ROOT / "checks":
            skip |= {n for n in names if n in EXERCISES and n not in released}
        return skip

    shutil.copytree(GRADER_ROOT, folder / "grader", ignore=ignore)
    _public_catalogs(folder / "grader")
    checks = folder / "grader" / "checks"
    init = checks / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8") + f"\n\n{HOOK_MARK}\n"
                    "# There is no reference/ folder here: `reference.*` imports answer from the recorded\n"
                    "# answers of the reference (grader/course/oracle/, files _oracle.bin).\n"
                    "from pathlib import Path as _Path\n\n"
                    "from grader.course.oracle import install_replay as _install_replay\n\n"
                    "_install_replay(_Path(__file__).resolve().parent)\n", encoding="utf-8")


def _copy_exercises(folder: Path, exercises: list[Exercise]) -> None:
    from grader.course.notebooks import write_notebook
    from grader.handouts import localise_file

    top = folder / "exercises"
    top.mkdir()
    init = PROJECT_ROOT / "exercises" / "__init__.py"
    (top / "__init__.py").write_text(init.read_text(encoding="utf-8") if init.exists() else "", encoding="utf-8")
    for exercise in exercises:
        shutil.copytree(exercise.stub_path.parent, top / exercise.name,
                        ignore=lambda d, names: {n for n in names if n in SKIP_NAMES or n.endswith(".pyc")})
        localise_file(top / exercise.name / exercise.stub_path.name)  # the handout in the current language
        if not (top / exercise.name / "__init__.py").exists():
            (top / exercise.name / "__init__.py").write_text("", encoding="utf-8")
        write_notebook(exercise, folder / "notebooks" / f"{exercise.name}.ipynb")


def _public_check_names(exercise: Exercise) -> list[str]:
    from grader.checks.runner import list_checks

    return [name for name, _, visibility, _ in list_checks(exercise, "public")]


# -- recording and verifying --------------------------------------------------------------------
RECORD_SCRIPT = ("import json, sys\nfrom grader.course.oracle.record import record_exercise\n"
                 "json.dump(record_exercise(sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])), "
                 "sys.stdout)\n")
VERIFY_SCRIPT = ("import sys\nfrom grader.options import GradingOptions\n"
                 "from grader.pipeline import grade_submission\n"
                 "result = grade_submission(sys.argv[1], sys.argv[2], options=GradingOptions(isolation=sys.argv[3]))\n"
                 "sys.stdout.write(result.to_json())\n")
"""Grades with the bundle's own grader and prints its result JSON (results.py's one serialiser)."""


def _run_python(script: str, args: list[str], cwd: Path) -> dict:
    """Run `script` in a fresh interpreter whose `grader` is the one found in `cwd`."""
    from grader import mnist

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(cwd)
    if mnist.SHARED_DIR.is_dir():  # the bundle's grader does not sit beside the course's offline copy
        env.setdefault(mnist.ENV_VAR, str(mnist.SHARED_DIR))
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=1800)
    if done.returncode != 0:
        raise ReleaseError(f"{script.splitlines()[1]} failed in {cwd}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def _record(exercise: Exercise, folder: Path, entry: ReleasedExercise, isolation: str, cases: bool) -> None:
    from grader.course.course_check import case_folders

    oracle = folder / "grader" / "checks" / exercise.name / ORACLE_FILE
    also = [str(p) for p in case_folders(exercise)] if cases else []
    outcome = _run_python(RECORD_SCRIPT, [exercise.name, str(oracle), isolation, json.dumps(also)], PROJECT_ROOT)
    if outcome["error"]:
        raise ReleaseError(_("{exercise}: the reference could not be graded: {error}").format(
            exercise=exercise.name, error=outcome["error"]))
    _keep_back(exercise, folder, entry, {k: v for k, v in outcome["checks"].items() if v})


def _verify(exercise: Exercise, folder: Path, entry: ReleasedExercise, isolation: str) -> None:
    """Grade the reference with the bundle's grader; keep back what does not pass there."""
    for attempt in range(3):  # leaving a check out cannot break another; the second pass confirms
        if not entry.public_checks:
            return
        result = GradeResult.from_dict(_run_python(VERIFY_SCRIPT, [exercise.name, str(exercise.reference_path),
                                                                   isolation], folder))
        hidden = [c.name for c in result.checks if c.visibility != "public"]
        if hidden:
            raise ReleaseError(_("{exercise}: the bundle ran hidden checks {checks}").format(
                exercise=exercise.name, checks=hidden))
        if result.error:
            raise ReleaseError(_("{exercise}: the bundle could not grade the reference: {error}").format(
                exercise=exercise.name, error=result.error))
        failed = {c.name: f"it does not pass with the reference in the bundle ({shorten(c.message, 160)})"
                  for c in result.checks if not c.passed}
        if not failed:
            return
        if attempt == 2:
            raise ReleaseError(_("{exercise}: public checks still fail in the bundle: {checks}").format(
                exercise=exercise.name, checks=sorted(failed)))
        _keep_back(exercise, folder, entry, failed)


def _keep_back(exercise: Exercise, folder: Path, entry: ReleasedExercise, why: dict[str, str]) -> None:
    if not why:
        return
    functions = {f"test_{name.split('[')[0]}" for name in why}
    path = folder / "grader" / "checks" / exercise.name / "test_public.py"
    path.write_text(remove_functions(path.read_text(encoding="utf-8"), functions), encoding="utf-8")
    for name, reason in why.items():
        entry.kept_back[name] = reason
    entry.public_checks = [n for n in entry.public_checks if f"test_{n.split('[')[0]}" not in functions]


def _withdraw(exercise: Exercise, folder: Path, entry: ReleasedExercise) -> None:
    """No public check of the exercise can run without the reference: `grade exerciseN` would have
    nothing to run, so the exercise is not released (the instructor sees why)."""
    entry.skipped = "none of its public checks can run without the reference (see kept_back)"
    shutil.rmtree(folder / "exercises" / exercise.name, ignore_errors=True)
    shutil.rmtree(folder / "grader" / "checks" / exercise.name, ignore_errors=True)
    (folder / "notebooks" / f"{exercise.name}.ipynb").unlink(missing_ok=True)


def remove_functions(source: str, names: set[str]) -> str:
    """`source` without the top-level functions `names` (decorators included), each replaced
    by a comment saying it runs when the instructor grades."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    spans = [(min([n.lineno] + [d.lineno for d in n.decorator_list]), n.end_lineno, n.name)
             for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in names]
    for start, end, name in sorted(spans, reverse=True):
        lines[start - 1:end] = [f"# {name}: runs only when your instructor grades (it needs the reference "
                                f"solution, which this bundle does not contain).\n"]
    return "".join(lines)


# -- project files ------------------------------------------------------------------------------
def _write_project_files(folder: Path, report: list[ReleasedExercise]) -> None:
    project = course_project()
    (folder / "pyproject.toml").write_text(pyproject_text(project), encoding="utf-8")
    (folder / "README.md").write_text(readme_text(report, project), encoding="utf-8")
    manifest = {"version": __version__, "exercises": [asdict(e) for e in report]}
    (folder / "RELEASE.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    templates = PROJECT_ROOT / "templates"
    if templates.is_dir():
        # inside the package, so that a non-editable install (pip install dlcourse.zip) carries them
        shutil.copytree(templates, folder / "grader" / "templates", ignore=lambda d, n: {x for x in n if x in SKIP_NAMES})


@dataclass(frozen=True)
class CourseProject:
    """What the bundle takes from the course's own pyproject.toml, so that students install the
    same dependencies, on the same Pythons, and get the same `grade` command: written down once."""
    dependencies: list[str]
    requires_python: str
    grade_entry_point: str


def course_project(path: Path = PROJECT_ROOT / "pyproject.toml") -> CourseProject:
    """The course project's [project] table; a ReleaseError, never a guess, when it cannot be read."""
    try:
        project = read_toml(path.read_text(encoding="utf-8"))["project"]
        return CourseProject(dependencies=list(project["dependencies"]),
                             requires_python=project["requires-python"],
                             grade_entry_point=project["scripts"]["grade"])
    except OSError as exc:
        raise ReleaseError(_("cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc)) from None
    except KeyError as exc:
        raise ReleaseError(_("{path} lacks {key} in its [project] table; the bundle copies it from there").format(
            path=path, key=repr(exc.args[0]))) from None


def read_toml(text: str) -> dict:
    """TOML as a dict: tomllib from Python 3.11 on; on 3.10 its original, the tomli package."""
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            raise ReleaseError(f"reading pyproject.toml needs Python 3.11 or the tomli package (this is Python "
                               f"{sys.version_info.major}.{sys.version_info.minor}): pip install tomli") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReleaseError(_("pyproject.toml is not valid TOML: {error}").format(error=exc)) from None


def pyproject_text(project: CourseProject) -> str:
    deps = "".join(f"    {json.dumps(d)},\n" for d in project.dependencies)  # a JSON string is a TOML string
    return f'''[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{BUNDLE_NAME}"
version = "{__version__}"
description = "Deep-learning course exercises and the `grade` command that checks them"
readme = "README.md"
requires-python = {json.dumps(project.requires_python)}
dependencies = [
{deps}]

[project.optional-dependencies]
notebooks = ["jupyter", "nbconvert>=7", "nbclient>=0.8", "ipykernel>=6"]

[project.scripts]
grade = {json.dumps(project.grade_entry_point)}

[tool.setuptools.packages.find]
include = ["grader*", "exercises*"]

[tool.setuptools.package-data]
"*" = ["*.ini", "*.html", "*.css", "*.bin", "*.mo"]
"grader" = ["templates/*.html", "templates/*.css"]
'''


WHEELHOUSE = "wheelhouse"


def wheel_name() -> str:
    """The bundle's wheel, named as pip's wheel builder names it (PEP 427)."""
    return f"{BUNDLE_NAME}-{__version__}-py3-none-any.whl"


def _build_wheel(folder: Path) -> Path:
    """Build the bundle into folder/wheelhouse/ as a wheel, from a copy (a build leaves build/ and
    *.egg-info behind). Students install the wheel: unlike the zip, which pip must build first
    (offline, `--no-build-isolation` fails on Python 3.11's setuptools without `wheel`: "invalid
    command 'bdist_wheel'", and a Python 3.12 venv has no setuptools at all), it installs
    with pip alone. Built here with this environment's setuptools, without a package index."""
    wheelhouse = folder / WHEELHOUSE
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / BUNDLE_NAME
        shutil.copytree(folder, source, ignore=lambda d, names: {n for n in names if n == WHEELHOUSE})
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                               "-q", "-w", str(wheelhouse), str(source)], capture_output=True, text=True, timeout=600)
    built = wheelhouse / wheel_name()
    if done.returncode != 0 or not built.is_file():
        raise ReleaseError(_("the bundle could not be built as a wheel (it needs setuptools>=70.1, or setuptools with "
                             "the wheel package, in this environment: pip install 'setuptools>=70.1'): {error}").format(
            error=shorten(done.stderr.strip() or done.stdout.strip(), 400)))
    return built


def dependency_names(dependencies: list[str]) -> list[str]:
    """"numpy>=1.24" -> "numpy"; a dependency for some Pythons only says which:
    "tomli; python_version<'3.11'" -> "tomli (where python_version<'3.11')"."""
    names = []
    for dependency in dependencies:
        requirement, _semicolon, marker = dependency.partition(";")
        name = re.match(r"[A-Za-z0-9._-]*", requirement.strip()).group()
        names.append(_("{name} (where {marker})").format(name=name, marker=marker.strip()) if marker.strip() else name)
    return names


README_WIDTH = 100
"""The README's prose is wrapped at this many columns (a Hangul syllable takes two)."""
MARKDOWN_MARK = re.compile(r"[-*+>#]+|\d+[.)]")
"""A word that starts a list, a quote or a heading when it begins a line."""
CPU_TORCH = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


def readme_text(report: list[ReleasedExercise], project: CourseProject) -> str:
    """The bundle's README.md in the current language (`grade release --lang ko|en`).

    Its prose comes from the `cli` catalog one paragraph at a time; the commands and code are
    the same in every language (tests/test_release.py and .ci/bundle_install run them as the
    README writes them), only their `# comments` are translated."""
    wheel = f"{WHEELHOUSE}/{wheel_name()}"
    text = _readme_prose(project)
    return f"""# {text["title"]}

{text["course"]}

{text["languages"]}

## {text["install heading"]}

{text["install"]}

    python -m venv .venv
    . .venv/bin/activate                  # {text["windows"]}
    {CPU_TORCH}   # {text["cpu"]}
    pip install {wheel}

{text["torch"]}

{text["wheelhouse"]}

    pip download -d {WHEELHOUSE} torch --index-url https://download.pytorch.org/whl/cpu
    pip download -d {WHEELHOUSE} --find-links {WHEELHOUSE} {wheel}

{text["offline"]}

    pip install --no-index --find-links {WHEELHOUSE} {wheel}

{text["colab"]}

    !unzip -q dlcourse.zip && pip install -q dlcourse/{wheel}
    %cd dlcourse

{text["course folder"]}

## {text["work heading"]}

{text["work"]}

    grade exercise1                                    # {text["checks"]}
    grade exercise1 --submission notebooks/exercise1.ipynb

{text["saved notebook"]}

{text["in a notebook"]}

    import grader
    grader.check("exercise1")

{text["kernel"]}

{text["isolation"]}

{text["hidden"]}

{text["imports"]}

{text["table header"]}
|---|---|---|---|
{readme_table(report)}

## {text["hand in heading"]}

{text["hand in"]}
"""


def _readme_prose(project: CourseProject) -> dict[str, str]:
    """The README's headings, paragraphs (wrapped) and code comments, in the current language."""
    packages = listed(dependency_names(project.dependencies))
    python = project.requires_python.removeprefix(">=")
    return {
        "title": _("Deep-learning exercises"),
        "install heading": _("Install (once)"),
        "work heading": _("Work and check"),
        "hand in heading": _("Hand in"),
        "table header": _("| exercise | file | topic | checks here |"),
        "course": prose(_(
            "These exercises follow the book *Deep Learning from Scratch*: you write each part of a neural network "
            "yourself with NumPy, then train one with PyTorch, and the `grade` command checks your code as you go.")),
        "languages": prose(_(
            "Feedback in Korean: add `--lang ko` to any `grade` command (`grade exercise1 --lang ko`), or write "
            "`grader.check(\"exercise1\", language=\"ko\")` in a notebook. Without `--lang`, `grade` follows your "
            "computer's language setting (the `LANG` environment variable), and English when it has none; "
            "`--lang en` asks for English.")),
        "install": prose(_(
            "Unzip `dlcourse.zip`: the `dlcourse` folder is your course folder. In it, in a terminal, make a virtual "
            "environment (Python {python} or newer) and install the course's `grade` command, on Linux, macOS or "
            "Windows:").format(python=python)),
        "windows": _("on Windows: {command}").format(command=".venv\\Scripts\\activate"),
        "cpu": _("laptop without an NVIDIA GPU"),
        "torch": prose(_(
            "The torch line is for a computer without an NVIDIA GPU (most laptops): it installs PyTorch's CPU build, "
            "about 200 MB, instead of the CUDA build pip picks on Linux, about 5 GB. Skip it on a machine with an "
            "NVIDIA GPU. The last line installs `grade` with what it needs: {packages}.").format(packages=packages)),
        "wheelhouse": prose(_(
            "Without internet access, install from a wheelhouse: `{wheelhouse}/` with the wheels of the dependencies "
            "beside the course's own. Your instructor may hand it out; or make it on a machine online, in the course "
            "folder (the first line fetches the CPU build of PyTorch, as above):").format(wheelhouse=WHEELHOUSE)),
        "offline": prose(_("then, offline:")),
        "colab": prose(_(
            "In Google Colab (PyTorch is already there), in a code cell, with `dlcourse.zip` uploaded to the "
            "session's files:")),
        "course folder": prose(_(
            "Then work in the course folder: `grade` grades the `exercises/` folder of the course folder you run it "
            "in, from any folder inside it (`notebooks/` too).")),
        "work": prose(_(
            "Fill in the functions in `exercises/exerciseN/` (or, if you prefer notebooks, in "
            "`notebooks/exerciseN.ipynb`: the same exercise), then, in this folder:")),
        "checks": _("checks {folder}").format(folder="exercises/exercise1/"),
        "saved notebook": prose(_("The second line grades the notebook file as you last saved it.")),
        "in a notebook": prose(_("In a notebook (Jupyter or Colab), run its last cell, or anywhere in it:")),
        "kernel": prose(_(
            "It checks the functions the notebook has defined so far (run your edited cells first; no need to save) "
            "and shows a table of the public checks.")),
        "isolation": prose(_(
            "`grade` says which isolation level ran: `bwrap` or `process` on Linux (your code runs in the course's "
            "sandbox), `local` elsewhere (macOS, Windows, Colab without the sandbox): a score at `local` is feedback "
            "for you, not your instructor's grade.")),
        "hidden": prose(_(
            "`grade list` shows the exercises and their points. You see the public checks' verdict and messages; "
            "hidden checks run when your instructor grades, so passing every public check does not guarantee full "
            "marks.")),
        "imports": prose(_(
            "When an exercise imports another one (`from exercises.exercise1.losses import softmax`), it uses your "
            "own `exercises/exercise1/losses.py` here (if you work in notebooks, copy your finished functions there "
            "too); when your instructor grades, it uses the model solution, so a mistake in one exercise costs "
            "points only once.")),
        "hand in": prose(_(
            "Hand in the module file, its folder, the notebook, or a .zip of one of them, as your instructor tells "
            "you.")),
    }


def readme_table(report: list[ReleasedExercise]) -> str:
    """The README table's rows: each released exercise, its files, topic and public checks."""
    rows = []
    for entry in report:
        if entry.skipped:
            continue
        exercise = get_exercise(entry.name)
        files = _("{module_file} or {notebook}").format(module_file=f"`exercises/{entry.name}/{exercise.module}.py`",
                                                         notebook=f"`notebooks/{entry.name}.ipynb`")
        checks = (_("{public} public; {kept} run only when your instructor grades") if entry.kept_back
                  else _("{public} public")).format(public=len(entry.public_checks), kept=len(entry.kept_back))
        rows.append(f"| {entry.name} | {files} | {_(exercise.topic)} | {checks} |")
    none_yet = _("(none yet)")
    return "\n".join(rows) or f"| {none_yet} | | | |"


def listed(names: list[str]) -> str:
    """["numpy", "click", "torch"] -> "numpy, click and torch", in the current language."""
    if len(names) < 2:
        return "".join(names)
    return _("{names} and {last}").format(names=", ".join(names[:-1]), last=names[-1])


def prose(text: str, width: int = README_WIDTH) -> str:
    """A paragraph wrapped at `width` columns, broken only at spaces outside `code spans`, so
    a command in backticks stays on one line (and readable by the tests that run it), and never
    before a word that would start a Markdown list, quote or heading."""
    lines, line = [], ""
    for word in re.findall(r"(?:[^\s`]|`[^`]*`|`)+", text):
        if line and columns(line) + 1 + columns(word) > width and not MARKDOWN_MARK.fullmatch(word):
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line])


def columns(text: str) -> int:
    """Columns `text` takes in a terminal or an editor: two for a wide character (Hangul)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _zip(folder: Path) -> Path:
    base = folder.parent / folder.name
    with tempfile.TemporaryDirectory() as tmp:  # never zip a half-written archive into itself
        made = shutil.make_archive(str(Path(tmp) / folder.name), "zip", root_dir=folder.parent, base_dir=folder.name)
        target = base.with_suffix(".zip")
        shutil.move(made, target)
    return target
