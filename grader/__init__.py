"""Grading and exercise harness for the deep-learning-from-scratch course.

The pipeline, one module per stage (see ARCHITECTURE.md):
find the submission (submission.py) -> run it isolated (sandbox/) -> check (runner.py +
checks/) -> score (results.py) -> report (report_terminal.py, report_html.py).
"""

__version__ = "0.1.0"
