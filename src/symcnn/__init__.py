"""symcnn: convolutional-network arithmetic as exact SymPy closed forms.

Build layers with PyTorch's names (any argument may be a symbol), then :func:`analyze` a layer or a
network: output shape, parameters, MACs, FLOPs, connections, activations and receptive field stay
symbolic until you substitute numbers.
"""

import sys as _sys
import types as _types
from typing import TYPE_CHECKING

from ._analysis import Analysis as Analysis
from ._analysis import LayerRecord as LayerRecord
from ._analysis import analyze as analyze
from ._errors import SymcnnError as SymcnnError
from ._graph import Graph as Graph
from ._graph import Input as Input
from ._graph import Node as Node
from ._graph import Sequential as Sequential
from ._intmath import FloorDiv as FloorDiv
from ._intmath import ceildiv as ceildiv
from ._intmath import floordiv as floordiv
from ._intmath import mod as mod
from ._symbols import C as C
from ._symbols import D as D
from ._symbols import F as F
from ._symbols import G as G
from ._symbols import H as H
from ._symbols import K as K
from ._symbols import L as L
from ._symbols import N as N
from ._symbols import P as P
from ._symbols import S as S
from ._symbols import T as T
from ._symbols import W as W
from ._symbols import symbols as symbols
from .layers import *  # noqa: F403
from .layers import __all__ as _layer_names
from .present import latex as latex
from .present import pretty as pretty
from .receptive import ReceptiveField as ReceptiveField

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and documentation tools
    from . import derive as derive
    from . import models as models
    from . import reference as reference
    from .counting import conventions as conventions
    from .counting import count as count
    from .errata import errata as errata
    from .interop.dims import export_dims as export_dims
    from .interop.onnx import from_onnx as from_onnx
    from .interop.torch import from_torch as from_torch
    from .interop.torch import to_torch as to_torch
    from .solve import mirror_output_padding as mirror_output_padding
    from .solve import solve as solve
    from .solve import valid_input_sizes as valid_input_sizes
    from .spec import load_spec as load_spec
    from .training import max_batch as max_batch
    from .training import max_input_size as max_input_size
    from .training import training as training

# Heavier parts load on first use (PEP 562), so `import symcnn` costs little more than SymPy: the derivations,
# solvers, zoo, counting conventions, PyTorch interop and spec files each import when first touched.
_LAZY = {
    "derive": (".derive", None), "models": (".models", None), "reference": (".reference", None),
    "errata": (".errata", "errata"), "solve": (".solve", "solve"),
    "valid_input_sizes": (".solve", "valid_input_sizes"), "mirror_output_padding": (".solve", "mirror_output_padding"),
    "count": (".counting", "count"), "conventions": (".counting", "conventions"),
    "from_torch": (".interop.torch", "from_torch"), "to_torch": (".interop.torch", "to_torch"),
    "from_onnx": (".interop.onnx", "from_onnx"), "export_dims": (".interop.dims", "export_dims"),
    "load_spec": (".spec", "load_spec"),
    "training": (".training", "training"), "max_batch": (".training", "max_batch"),
    "max_input_size": (".training", "max_input_size"),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'symcnn' has no attribute {name!r}")
    import importlib

    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name, __name__)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(_types.ModuleType):
    """``symcnn.solve`` and ``symcnn.errata`` are functions named like their modules: importing the module
    ``symcnn.solve`` (which makes Python set the package attribute to the module) must not hide the function."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, _types.ModuleType) and _LAZY.get(name, (None, None))[1] is not None:
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package

__version__ = "0.1.0"

__all__ = [
    "SymcnnError",
    "C", "D", "F", "G", "H", "K", "L", "N", "P", "S", "T", "W", "symbols",
    "FloorDiv", "floordiv", "ceildiv", "mod", "pretty", "latex",
    *_layer_names,
    "Sequential", "Graph", "Input", "Node",
    "analyze", "Analysis", "LayerRecord", "ReceptiveField",
    "models", "reference", "derive", "errata", "solve", "valid_input_sizes", "mirror_output_padding",
    "load_spec",
    "count", "conventions",
    "to_torch", "from_torch", "from_onnx", "export_dims",
]
