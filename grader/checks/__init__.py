"""The checks, one package per exercise: test_public.py (students see and can run them) and
test_hidden.py (only when the instructor grades). See grader/checks/api.py for the API."""
