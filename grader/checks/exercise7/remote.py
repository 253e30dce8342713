"""PyTorch objects built inside the student's process, each with a twin in the grader's.

The checks give the student's functions models, loaders and optimizers made from torch's
own classes (so a bug in the student's build_model or make_loaders cannot spoil a check of
their training loop), and build the same objects here, with the same weights and data, for
the reference to run on. Everything crosses the sandbox boundary as plain arrays:
weights go in through load_state_dict and come back through state_dict.

What can only be seen inside the student's process (is the model in training mode? is
autograd recording?) is read by ForwardRecorder, a forward pre-hook that runs here in the
grader and asks the student's process while the forward pass waits for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from grader.sandbox.codec import Tensor
from grader.sandbox.errors import StudentCodeError

Layers = list[tuple]
"""A model as a list of torch.nn layer names and their arguments, e.g.
[("Linear", 6, 8), ("ReLU",), ("Linear", 8, 3)]."""


def local_model(layers: Layers, seed: int) -> torch.nn.Sequential:
    """The grader's copy: torch's default initialisation from a fixed seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(*[getattr(torch.nn, name)(*args) for name, *args in layers])


def state_arrays(model: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def local_loader(x: np.ndarray, t: np.ndarray, batch_size: int) -> DataLoader:
    """Batches in a fixed order, as the student's process gets them from Remote.loader."""
    dataset = TensorDataset(torch.from_numpy(np.asarray(x, np.float32).copy()),
                            torch.from_numpy(np.asarray(t, np.int64).copy()))
    return DataLoader(dataset, batch_size=batch_size, shuffle=False)


SANDBOX_THREADS = 1
"""CPU threads torch may use in the student's process (and the reference, when timed). On a
busy machine two or more threads that wait for each other can make training 10-20 times
slower (measured on the course's 2-core machines under load); one thread per process is
what the numpy exercises use too, and makes the timings comparable."""


class Remote:
    """torch inside the student's process, reached through the `student` fixture."""

    def __init__(self, student):
        self.student = student
        self.torch = student.import_module("torch")
        self.nn = student.import_module("torch.nn")
        self.data = student.import_module("torch.utils.data")
        self.builtins = student.import_module("builtins")
        self.torch.set_num_threads(SANDBOX_THREADS)

    def model(self, layers: Layers, state: dict[str, np.ndarray]):
        """A torch.nn.Sequential in the student's process holding exactly `state`."""
        model = self.nn.Sequential(*[getattr(self.nn, name)(*args) for name, *args in layers])
        self.load_state(model, state)
        return model

    def load_state(self, model, state: dict[str, np.ndarray]) -> None:
        model.load_state_dict({k: Tensor(v) for k, v in state.items()})

    def read_state(self, model) -> dict[str, np.ndarray]:
        """The model's state_dict as arrays (copied out of the student's process; the
        OrderedDict arrives as a dict)."""
        state = model.state_dict()
        return state if isinstance(state, dict) else self.builtins.dict(state)

    def loader(self, x: np.ndarray, t: np.ndarray, batch_size: int, shuffle: bool = False):
        dataset = self.data.TensorDataset(Tensor(np.asarray(x, np.float32)), Tensor(np.asarray(t, np.int64)))
        return self.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)

    def is_instance(self, obj: Any, *path: str) -> bool:
        """isinstance(obj, torch.<path>) evaluated in the student's process."""
        cls = self.torch
        for name in path:
            cls = getattr(cls, name)
        return bool(self.builtins.isinstance(obj, cls))


class ForwardRecorder:
    """A forward pre-hook for a model in the student's process, run here in the grader.

    For every forward pass it records whether the model was in training mode, whether
    autograd was recording (False under torch.no_grad() and torch.inference_mode()) and the
    batch's number of rows. A student who calls model.forward(x) directly skips hooks, so
    an empty record means "not observed", never "wrong".
    """

    def __init__(self, remote: Remote):
        self.remote = remote
        self.calls: list[dict] = []

    def __call__(self, module, args) -> None:
        rows = len(args[0]) if args and hasattr(args[0], "__len__") else None
        self.calls.append({"training": bool(module.training),
                           "grad_enabled": bool(self.remote.torch.is_grad_enabled()), "rows": rows})
        return None

    def attach_to(self, model) -> "ForwardRecorder":
        model.register_forward_pre_hook(self)
        return self

    def any(self, key: str) -> bool:
        return any(call[key] for call in self.calls)

    def all(self, key: str) -> bool:
        return bool(self.calls) and all(call[key] for call in self.calls)


class SimulatedCuda:
    """Makes torch in the student's process report one CUDA device (on a machine without one),
    and puts everything back afterwards. Creating torch.device("cuda") needs no GPU.

    With `accelerator=False` only torch.cuda says so, not torch.accelerator: an optimizer's
    step() asks torch.accelerator for the current stream when it believes one is present, which
    fails on a machine without it, so code that trains (DeviceMoves) must leave it alone."""

    def __init__(self, remote: Remote, *, accelerator: bool = True):
        self.remote = remote
        self.accelerator = accelerator
        self.patched: list[tuple] = []

    def __enter__(self) -> "SimulatedCuda":
        cuda_device = self.remote.torch.device("cuda")
        try:
            self._patch("torch.cuda", "is_available", lambda *a, **k: True)
            self._patch("torch.cuda", "device_count", lambda *a, **k: 1)
            if self.accelerator and self.remote.builtins.hasattr(self.remote.torch, "accelerator"):  # torch >= 2.6
                self._patch("torch.accelerator", "is_available", lambda *a, **k: True)
                self._patch("torch.accelerator", "current_accelerator", lambda *a, **k: cuda_device)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _patch(self, module_name: str, name: str, replacement) -> None:
        module = self.remote.student.import_module(module_name)
        self.patched.append((module, name, getattr(module, name)))
        setattr(module, name, replacement)

    def __exit__(self, *exc) -> None:
        for module, name, original in reversed(self.patched):
            setattr(module, name, original)


RECORDER_SOURCE = Path(__file__).with_name("move_recorder.py").read_text()


class DeviceMoves:
    """While active, the student's process records every move of a tensor or module to a device
    and carries out moves to CUDA on the CPU (move_recorder.py), and, on a machine without a GPU,
    reports one (SimulatedCuda), so a check can give the student's code torch.device("cuda")
    and see whether it moves its batches and model there. `moves` is the record, read on exit."""

    def __init__(self, remote: Remote):
        self.remote = remote
        self.moves: list[dict] = []
        self._recorder = None
        self._cuda: SimulatedCuda | None = None

    def __enter__(self) -> "DeviceMoves":
        namespace = self.remote.student.keep({"__name__": "move_recorder"})
        self.remote.builtins.exec(RECORDER_SOURCE, namespace)
        self._recorder = namespace["MoveRecorder"]().install()
        try:
            if not bool(self.remote.torch.cuda.is_available()):
                self._cuda = SimulatedCuda(self.remote, accelerator=False).__enter__()
        except BaseException:
            self._recorder.remove()
            raise
        return self

    def __exit__(self, exc_type, *exc) -> None:
        try:
            try:
                if self._cuda is not None:
                    self._cuda.__exit__()
            finally:
                self._recorder.remove()
                self.moves = list(self._recorder.moves)
        except StudentCodeError:
            if exc_type is None:
                raise  # else the student's process already failed: that error is the one to report

    def of_tensors(self, shapes: set[tuple]) -> list[dict]:
        """The recorded moves of tensors of these shapes (a check's batches), outside any module's move."""
        return [m for m in self.moves if m["what"] == "tensor" and m["shape"] is not None
                and tuple(m["shape"]) in shapes]

    def of_modules(self) -> list[dict]:
        return [m for m in self.moves if m["what"] == "module"]
