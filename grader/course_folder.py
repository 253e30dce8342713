"""The student's course folder: the nearest folder, from here upwards, that holds the exercises.

A student works in the unzipped bundle, `dlcourse/`, with `exercises/exerciseN/` and
`notebooks/` in it. A Jupyter kernel started from `notebooks/` has that folder as its working
directory, yet `exercises.exercise1.losses` must still be the student's own file, not the copy
of the stub that `pip install dlcourse.zip` put in site-packages. So the course folder is found
by walking up from the working directory to the first folder with an `exercises/` folder (the
same rule as `grade`'s).

Kept free of other grader imports: `exercises/__init__.py` imports it on every `import exercises`.
"""

from __future__ import annotations

from pathlib import Path


def find_course_folder(start: Path | str | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the working directory) that holds an
    `exercises/` folder; None outside any course folder."""
    try:
        here = Path(start if start is not None else Path.cwd()).resolve()
    except OSError:  # the working directory was deleted
        return None
    for folder in (here, *here.parents):
        if holds_exercises(folder):
            return folder
    return None


def holds_exercises(folder: Path) -> bool:
    try:
        return (folder / "exercises").is_dir()
    except OSError:
        return False


def own_exercises_first(package_path: list[str], start: Path | str | None = None) -> list[str]:
    """The search path of the `exercises` package with the course folder's `exercises/` first,
    so that its modules are the student's own wherever inside the course folder Python runs."""
    course = find_course_folder(start)
    if course is None:
        return list(package_path)
    own = str(course / "exercises")
    return [own, *(p for p in package_path if Path(p).resolve() != Path(own).resolve())]
