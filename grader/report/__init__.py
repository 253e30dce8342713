"""Reports of a GradeResult: terminal, HTML, charts, gradebook, Gradescope."""

LOCAL_FEEDBACK_NOTICE = ("This score is feedback for you, not your instructor's grade: it was graded on your own "
                         "machine at the `local` level, where your code runs without the course's sandbox. "
                         "Your instructor grades the submission you hand in separately.")
"""Shown with every result graded at the `local` isolation level (terminal and HTML reports)."""
