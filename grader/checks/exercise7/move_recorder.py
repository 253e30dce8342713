"""Records where the student's code moves tensors and modules; runs inside the student's process.

On a grader without a GPU, code that never moves its batches or its model to `device` runs
exactly like code that does: everything is on the CPU anyway. To tell them apart, the checks
give the student's functions a CUDA device and, while they run, wrap the ways a tensor or a
module reaches a device (`Tensor.to`, `Tensor.cuda`, `Module.to`, `Module.cuda`,
`torch.as_tensor(..., device=)`, `torch.tensor(..., device=)`): each request is recorded, and a
request for CUDA is carried out on the CPU, so the code runs on any machine and its numbers are
those of the CPU. The record says what was asked, not where tensors ended up.

remote.DeviceMoves sends this file's source to the student's process and executes it there,
where the grader's packages are not importable: it imports torch and nothing else.
"""

import torch

CPU = torch.device("cpu")


def _device_of(value):
    """The torch.device a `device=` argument names (a str, an int for a CUDA index, a device), or None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return torch.device("cuda", value)
    return torch.device(value)


def _on_cpu(device):
    """Where a move is carried out: CUDA becomes the CPU, every other device stays as asked."""
    return CPU if device is not None and device.type == "cuda" else device


class MoveRecorder:
    """Install with install(), take out with remove(); `moves` lists every request to move, as
    plain data: {"what": "tensor" | "parameter" | "module", "call": ..., "device": "cuda", "shape": [4, 6]}.

    Tensors moved by a Module.to or Module.cuda are the module's own parameters and buffers;
    they are recorded once, as the module's move."""

    def __init__(self):
        self.moves = []
        self._saved = []
        self._in_module_move = 0

    def _record(self, what, call, device, shape=None):
        if self._in_module_move and what != "module":
            return
        self.moves.append({"what": what, "call": call, "device": str(device),
                           "shape": None if shape is None else [int(n) for n in shape]})

    def _replace(self, owner, name, make):
        """owner.name = make(original); remove() puts back exactly what was there (an inherited
        method is deleted again rather than copied onto the subclass)."""
        original = getattr(owner, name)
        self._saved.append((owner, name, owner.__dict__.get(name, _INHERITED)))
        setattr(owner, name, make(original))

    def install(self):
        self._replace(torch.Tensor, "to", self._tensor_to)
        self._replace(torch.Tensor, "cuda", self._tensor_cuda)
        self._replace(torch.nn.Module, "to", self._module_to)
        self._replace(torch.nn.Module, "cuda", self._module_cuda)
        self._replace(torch, "as_tensor", self._factory("as_tensor"))
        self._replace(torch, "tensor", self._factory("tensor"))
        return self

    def remove(self):
        while self._saved:
            owner, name, original = self._saved.pop()
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)

    def _tensor_to(self, original):
        recorder = self

        def to(tensor, *args, **kwargs):
            try:
                device, dtype, non_blocking, memory_format = torch._C._nn._parse_to(*args, **kwargs)
            except (RuntimeError, TypeError):  # e.g. .to(0) without an accelerator: let torch say so
                return original(tensor, *args, **kwargs)
            if device is None:  # a dtype conversion only
                return original(tensor, *args, **kwargs)
            what = "parameter" if isinstance(tensor, torch.nn.Parameter) else "tensor"
            recorder._record(what, "Tensor.to", device, tensor.shape)
            if device.type != "cuda":
                return original(tensor, *args, **kwargs)
            extra = {} if memory_format is None else {"memory_format": memory_format}
            return original(tensor, device=CPU, dtype=dtype, non_blocking=non_blocking,
                            copy=bool(kwargs.get("copy", False)), **extra)
        return to

    def _tensor_cuda(self, original):
        recorder = self

        def cuda(tensor, device=None, non_blocking=False, **kwargs):
            what = "parameter" if isinstance(tensor, torch.nn.Parameter) else "tensor"
            recorder._record(what, "Tensor.cuda", _device_of(device) or torch.device("cuda"), tensor.shape)
            return torch._C.TensorBase.to(tensor, CPU)
        return cuda

    def _module_to(self, original):
        recorder = self

        def to(module, *args, **kwargs):
            try:
                device, dtype, non_blocking, _ = torch._C._nn._parse_to(*args, **kwargs)
            except (RuntimeError, TypeError):
                return original(module, *args, **kwargs)
            if device is None:
                return original(module, *args, **kwargs)
            recorder._record("module", "Module.to", device)
            recorder._in_module_move += 1
            try:
                return original(module, device=_on_cpu(device), dtype=dtype, non_blocking=non_blocking)
            finally:
                recorder._in_module_move -= 1
        return to

    def _module_cuda(self, original):
        recorder = self

        def cuda(module, device=None):
            recorder._record("module", "Module.cuda", _device_of(device) or torch.device("cuda"))
            return module
        return cuda

    def _factory(self, name):
        """torch.as_tensor and torch.tensor, whose `device=` is keyword-only."""
        recorder = self

        def make(original):
            def factory(data, *args, **kwargs):
                device = _device_of(kwargs.get("device"))
                if device is None:
                    return original(data, *args, **kwargs)
                recorder._record("tensor", f"torch.{name}", device, getattr(data, "shape", None))
                return original(data, *args, **dict(kwargs, device=_on_cpu(device)))
            return factory
        return make


class _Inherited:
    """Marks an attribute that was not set on the class itself before install()."""


_INHERITED = _Inherited()
