"""The exercises of the course: what each is called, where its files live, and its limits.

This table is the only place that lists exercises; the CLI, the batch grader, the release
bundle and the tests all read it, so adding an exercise starts here (see ARCHITECTURE.md).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from grader.course_folder import find_course_folder  # noqa: F401 - the CLI's and the tests' import
from grader.i18n import N_, _

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHECKS_ROOT = Path(__file__).resolve().parent / "checks"
EXERCISES_ROOT = PROJECT_ROOT / "exercises"
REFERENCE_ROOT = PROJECT_ROOT / "reference"


@dataclass(frozen=True)
class Exercise:
    name: str
    module: str
    topic: str
    """English, marked N_: shown as `_(exercise.topic)`."""
    uses_torch: bool = False
    check_timeout: float = 10.0
    """Seconds one check may spend in the student's code before it fails as a hang."""
    submission_timeout: float = 120.0
    """Seconds all checks of one submission may spend in the student's code together."""
    memory_limit_mb: int = 4096
    """Memory the student's code may use, in MB: each process's private memory (RLIMIT_DATA, so
    an allocation past it raises MemoryError) and, for the submission's processes together, its
    own process's memory plus shared memory and files in the private /tmp and /dev/shm (watched by
    the sandbox's zygote). Reserved but unused address space is not counted: CUDA reserves ~17.5 GB."""
    notebook_whole_cells: bool = False
    """Run a notebook submission's code cells whole. By default only their definitions run
    (grader/notebook_definitions.py), so a training run left in a cell costs no time; an exercise
    whose checks need the notebook's top-level code sets this."""

    @property
    def checks_dir(self) -> Path:
        return CHECKS_ROOT / self.name

    @property
    def stub_path(self) -> Path:
        return EXERCISES_ROOT / self.name / f"{self.module}.py"

    @property
    def reference_path(self) -> Path:
        return REFERENCE_ROOT / self.name / f"{self.module}.py"

    @property
    def import_name(self) -> str:
        """The name other exercises import it by (SPEC.md): exercises.exerciseN.<module>."""
        return f"exercises.{self.name}.{self.module}"


EXERCISES: dict[str, Exercise] = {
    e.name: e
    for e in [
        Exercise("exercise1", "losses", N_("softmax, sum of squares error, cross-entropy error")),
        Exercise("exercise2", "gradients", N_("numerical differentiation, numerical gradient, gradient descent")),
        Exercise("exercise3", "two_layer_net",
                 N_("TwoLayerNet: forward, loss, accuracy, numerical and backprop gradients")),
        Exercise("exercise4", "train", N_("mini-batch SGD training loop, timed end to end on MNIST"),
                 check_timeout=60.0, submission_timeout=240.0),
        Exercise("exercise5", "optimizers", N_("SGD, Momentum, AdaGrad, Adam")),
        Exercise("exercise6", "batchnorm",
                 N_("batch normalization (forward/backward), dropout, weight-init scales")),
        Exercise("exercise7", "torch_training",
                 N_("PyTorch loaders, training loop, evaluation, early stopping, timed on MNIST"),
                 uses_torch=True, check_timeout=60.0, submission_timeout=300.0, memory_limit_mb=16384),
    ]
}


class UnknownExercise(ValueError):
    pass


def get_exercise(name: str) -> Exercise:
    try:
        return EXERCISES[name]
    except KeyError:
        valid = ", ".join(EXERCISES)
        raise UnknownExercise(_("unknown exercise {name}; valid exercises: {exercises}").format(
            name=repr(name), exercises=valid)) from None


def is_student_bundle() -> bool:
    """The students' bundle has no reference/ (grader/course/release.py): its `grade` shows
    the student's commands only, and its help and hints name what the bundle holds."""
    return not REFERENCE_ROOT.is_dir()


@dataclass(frozen=True)
class CheckSummary:
    count: int
    points: float


def summarise_checks(exercise: Exercise) -> CheckSummary:
    """How many checks an exercise has and their points, read from the check files' source
    without importing them: `grade list` must not pay for torch (exercise 7's checks import
    it). A check is a top-level `def test_*` decorated `@public(points=...)` or
    `@hidden(points=...)` (grader/checks/api.py); tests/test_cli_errors.py holds this equal to
    grader.checks.runner.list_checks, which imports them."""
    count, points = 0, 0.0
    files = [exercise.checks_dir / "test_public.py", *sorted(exercise.checks_dir.glob("test_hidden*.py"))]
    for path in (p for p in files if p.is_file()):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            marked = _check_points(node) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") \
                else None
            if marked is not None:
                count, points = count + 1, points + marked
    return CheckSummary(count, points)


def _check_points(function: ast.FunctionDef) -> float | None:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            name = getattr(decorator.func, "id", getattr(decorator.func, "attr", ""))
            if name in ("public", "hidden"):
                given = {k.arg: k.value for k in decorator.keywords}
                value = given.get("points", decorator.args[0] if decorator.args else None)
                return float(ast.literal_eval(value)) if value is not None else None
    return None
