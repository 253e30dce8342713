"""Deliberately broken checks (tests/test_attribution.py): each is a bug of the grader's, never the
student's fault, beside control checks whose failures are the student's own."""
