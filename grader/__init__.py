"""Grading and exercise harness for the deep-learning-from-scratch course.

The pipeline, one module per stage (see ARCHITECTURE.md):
find the submission (submission.py) -> run it isolated (sandbox/) -> check (checks/) ->
score (results.py) -> report (report/); pipeline.py strings them together.
"""

__version__ = "0.1.0"
