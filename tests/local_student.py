"""A submission's module driven in this process the way the sandbox drives it (arguments copied
in, codec.Layout arguments arriving as views, kept values held by reference, `copy` results
copied out), so tests can run a contract check on many more generated inputs than grading draws,
in milliseconds and without a sandbox."""

from __future__ import annotations

import copy
import importlib
import importlib.util
from pathlib import Path

from grader.sandbox.codec import Layout, with_layout


class LocalObject:
    def __init__(self, obj):
        self.obj = obj

    def call(self, method, *args, **kwargs):
        result = getattr(self.obj, method)(*(arrive(a) for a in args), **kwargs)
        return copy.deepcopy(result) if method == "copy" else result

    def __getattr__(self, name):
        return copy.deepcopy(getattr(self.obj, name))


def arrive(value):
    """An argument as the student's code receives it."""
    if isinstance(value, LocalObject):
        return value.obj
    if isinstance(value, Layout):
        return with_layout(value.array.copy(), value.layout)
    if isinstance(value, dict):
        return {k: arrive(v) for k, v in value.items()}
    return copy.deepcopy(value)


class LocalStudent:
    def __init__(self, path: Path):
        spec = importlib.util.spec_from_file_location(f"local_{path.parent.name}", path)
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)

    def call(self, name, *args, **kwargs):
        result = getattr(self.module, name)(*(arrive(a) for a in args), **kwargs)
        return LocalObject(result) if not isinstance(result, (int, float)) else result

    def keep(self, value):
        return LocalObject(arrive(value))

    def import_module(self, name):
        return LocalObject(importlib.import_module(name))
