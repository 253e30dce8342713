"""Grading and exercise harness for the deep-learning-from-scratch course.

The pipeline, one module per stage (see ARCHITECTURE.md):
find the submission (submission.py) -> run it isolated (sandbox/) -> check (checks/) ->
score (results.py) -> report (report/); pipeline.py strings them together.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """`grader.check("exercise1")` in a notebook (grader/notebook_check.py), imported on first use:
    `import grader` stays cheap for the CLI and the sandbox, which never need it."""
    if name == "check":
        from grader.notebook_check import check

        return check
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
