"""symcnn: convolutional-network arithmetic as exact SymPy closed forms.

Build layers with PyTorch's names (any argument may be a symbol), then :func:`analyze` a layer or a
network: output shape, parameters, MACs, FLOPs, connections, activations and receptive field stay
symbolic until you substitute numbers.
"""

from . import derive as derive
from . import models as models
from . import reference as reference
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
from ._intmath import latex as latex
from ._intmath import mod as mod
from ._intmath import pretty as pretty
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
from .counting import conventions as conventions
from .counting import count as count
from .errata import errata as errata
from .interop.torch import from_torch as from_torch
from .interop.torch import to_torch as to_torch
from .layers import *  # noqa: F403
from .layers import __all__ as _layer_names
from .receptive import ReceptiveField as ReceptiveField
from .solve import mirror_output_padding as mirror_output_padding
from .solve import solve as solve
from .solve import valid_input_sizes as valid_input_sizes
from .spec import load_spec as load_spec

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
    "to_torch", "from_torch",
]
