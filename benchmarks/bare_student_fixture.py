"""pytest plugin for bench_isolation.py: the `student` fixture is exercise 1's reference module,
imported in pytest's own process. `python -m pytest -p bare_student_fixture grader/checks/exercise1`
is then the bare pytest run a grader without isolation or bookkeeping would do."""

import importlib.util
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parent.parent / "reference" / "exercise1" / "losses.py"


@pytest.fixture(scope="session")
def student():
    spec = importlib.util.spec_from_file_location("bare_losses", MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
