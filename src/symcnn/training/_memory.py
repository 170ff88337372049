"""Bytes of parameters, gradients, optimizer state and buffers; dtypes; memory strings such as ``"24 GiB"``.

What PyTorch 2.x allocates per *trainable* parameter tensor ``p`` (``requires_grad=True``), beside ``p`` itself:

==============  ========================================================================================
gradient        ``p.grad``: one tensor like ``p``
``sgd``         nothing
``sgd_momentum`` ``momentum_buffer`` (a clone of the first gradient): one tensor like ``p``
``adam/adamw``  ``exp_avg`` and ``exp_avg_sq`` (like ``p``), and ``step``: a float32 scalar tensor per
                parameter tensor, kept on the CPU unless ``capturable``/``fused`` (so 4 bytes each on CPU
                and none in GPU memory)
==============  ========================================================================================

Frozen parameters (``requires_grad=False``) get no gradient and no optimizer state (PyTorch's optimizers skip
parameters whose ``grad`` is ``None``). Mixed precision with ``master_weights=True`` (parameters in bf16/fp16,
a float32 master copy updated by the optimizer): master copy and optimizer state in float32.
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

from .._errors import SymcnnError

__all__ = ["DTYPES", "OPTIMIZERS", "dtype_bytes", "parse_memory", "optimizer_state_factor", "check_dtype"]

#: bytes per element of every dtype the training model uses
DTYPES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int64": 8, "bool": 1}
FLOAT_DTYPES = ("float64", "float32", "float16", "bfloat16")
_ALIASES = {"fp64": "float64", "double": "float64", "fp32": "float32", "float": "float32", "fp16": "float16",
            "half": "float16", "bf16": "bfloat16"}

#: optimizer name -> (tensors like p per trainable parameter tensor, has a float32 ``step`` scalar)
OPTIMIZERS = {"sgd": (0, False), "sgd_momentum": (1, False), "adam": (2, True), "adamw": (2, True)}


def check_dtype(where: str, name: str, value, allowed=FLOAT_DTYPES) -> str:
    """A dtype name (``"float32"``, ``"bf16"``, ...), normalised; anything else is refused."""
    key = _ALIASES.get(value, value) if isinstance(value, str) else value
    if key not in allowed:
        raise SymcnnError(f"{where}: `{name}`={value!r} must be one of {', '.join(allowed)}")
    return key


def dtype_bytes(dtype: str) -> int:
    return DTYPES[dtype]


def optimizer_state_factor(where: str, optimizer) -> tuple[int, bool]:
    """(tensors like the parameter, float32 ``step`` scalar) kept by ``optimizer``."""
    if not isinstance(optimizer, str):
        raise SymcnnError(f"{where}: `optimizer`={optimizer!r} must be one of {', '.join(OPTIMIZERS)}")
    name = optimizer.lower().replace("-", "_").replace(" ", "_")
    name = {"momentum": "sgd_momentum", "sgdm": "sgd_momentum"}.get(name, name)
    if name not in OPTIMIZERS:
        raise SymcnnError(f"{where}: `optimizer`={optimizer!r} must be one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name]


_UNITS = {
    "": 1, "b": 1, "byte": 1, "bytes": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
    "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
}
_MEMORY = re.compile(r"\s*([0-9]{1,15})(?:\.([0-9]{1,12}))?\s*([A-Za-z]{0,5})\s*")
#: the largest memory accepted (1 PiB): bounds every search
MAX_MEMORY = 2**50


def parse_memory(where: str, value) -> int:
    """Bytes from an int or a string such as ``"24 GiB"``, ``"16GB"``, ``"1.5 TiB"``, ``"8e9"`` is refused.

    Units (case-insensitive): B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB (powers of 1024); a bare
    number is bytes. Fractions of a byte are dropped. The string is matched against this whitelist, never
    evaluated.

    >>> parse_memory("max_batch", "24 GiB"), parse_memory("max_batch", "16GB"), parse_memory("x", "1.5 KiB")
    (25769803776, 16000000000, 1536)
    """
    if isinstance(value, bool):
        raise SymcnnError(f"{where}: `memory`={value!r} must be a number of bytes or a string like '24 GiB'")
    if isinstance(value, int):
        number = Fraction(value)
    elif isinstance(value, str):
        if len(value) > 40:
            raise SymcnnError(f"{where}: `memory`={value[:40]!r}... is too long (at most 40 characters)")
        m = _MEMORY.fullmatch(value)
        unit = m.group(3).lower() if m else None
        if m is None or unit not in _UNITS:
            raise SymcnnError(
                f"{where}: `memory`={value!r} is not understood; write a number and a unit such as '24 GiB', "
                "'16GB', '512 MiB' (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
            )
        number = Fraction(int(m.group(1))) + (Fraction(int(m.group(2)), 10 ** len(m.group(2))) if m.group(2) else 0)
        number *= _UNITS[unit]
    else:
        raise SymcnnError(
            f"{where}: `memory`={value!r} is a {type(value).__name__}; give an int (bytes) or a string like '24 GiB'"
        )
    total = int(number)
    if total < 1 or total > MAX_MEMORY:
        raise SymcnnError(f"{where}: `memory`={value!r} is {total} bytes; it must be between 1 byte and 1 PiB")
    return total


def param_tensor_count(layer) -> int:
    """How many parameter tensors the PyTorch module of ``layer`` has (weight, bias, ...): Adam's ``step``."""
    from ..layers import ConnectionTableConv2d, Linear, PReLU, Subsampling2d
    from ..layers.conv import _ConvNd
    from ..layers.norm import _BatchNorm

    if isinstance(layer, (_ConvNd, Linear)):
        return 1 + (1 if layer.bias else 0)
    if isinstance(layer, _BatchNorm):
        return 2 if layer.affine else 0
    if isinstance(layer, PReLU):
        return 1
    from ..layers import GroupNorm, LayerNorm, LayerNorm2d, LearnedScale, LearnedShift

    if isinstance(layer, (LearnedScale, LearnedShift)):
        return 1
    if isinstance(layer, (LayerNorm, LayerNorm2d, GroupNorm)):
        affine = layer.elementwise_affine if isinstance(layer, LayerNorm) else layer.affine
        return (1 + (1 if getattr(layer, "bias", True) else 0)) if affine else 0
    if isinstance(layer, Subsampling2d):
        return 2
    if isinstance(layer, ConnectionTableConv2d):
        return len(layer.table) + (1 if layer.bias else 0)
    return 0


def buffer_bytes(layer, buffers: sympy.Expr, dtype: str) -> sympy.Expr:
    """Buffer bytes: BatchNorm's running mean and variance in ``dtype`` plus ``num_batches_tracked`` (int64)."""
    from ..layers.norm import _BatchNorm

    if isinstance(layer, _BatchNorm) and layer.track_running_stats:
        return 2 * layer.num_features * DTYPES[dtype] + DTYPES["int64"]
    return buffers * DTYPES[dtype]
