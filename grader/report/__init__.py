"""Reports of a GradeResult: terminal, HTML, charts, gradebook, Gradescope."""

LOCAL_FEEDBACK_NOTICE = ("This score is feedback for you, not your instructor's grade: it was graded on your own "
                         "machine at the `local` level, where your code runs without the course's sandbox. "
                         "Your instructor grades the submission you hand in separately.")
"""Shown with every result graded at the `local` isolation level (terminal and HTML reports)."""


def origin_note(check, audience: str = "student") -> str:
    """What a report says about who a check's outcome belongs to, beyond its status: another
    exercise's code that made it fail (so the student fixes it there), and for instructors the
    kind of a grader fault (grader, machine, data). "" when there is nothing to add."""
    origin = getattr(check, "origin", "") or ""
    if origin.startswith("exercise:"):
        return (f"This comes from code of {origin.split(':', 1)[1]}, not of this exercise: fixing it there "
                f"fixes this check.")
    if audience == "instructor" and check.status == "could_not_run" and origin:
        return f"Not run because of: {origin}."
    return ""
