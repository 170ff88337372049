"""symcnn: convolutional-network arithmetic as exact SymPy closed forms.

Build layers with PyTorch's names (any argument may be a symbol), then :func:`analyze` a layer or a
network: output shape, parameters, MACs, FLOPs, connections, activations and receptive field stay
symbolic until you substitute numbers.
"""

from ._errors import SymcnnError as SymcnnError
from ._symbols import C as C, D as D, F as F, G as G, H as H, K as K, L as L, N as N, P as P, S as S
from ._symbols import T as T, W as W, symbols as symbols
from ._intmath import FloorDiv as FloorDiv, ceildiv as ceildiv, floordiv as floordiv, mod as mod
from ._intmath import latex as latex, pretty as pretty
from .layers import *  # noqa: F403
from .layers import __all__ as _layer_names
from ._graph import Graph as Graph, Input as Input, Node as Node, Sequential as Sequential
from ._analysis import Analysis as Analysis, LayerRecord as LayerRecord, analyze as analyze
from .receptive import ReceptiveField as ReceptiveField

__version__ = "0.1.0"

__all__ = [
    "SymcnnError",
    "C", "D", "F", "G", "H", "K", "L", "N", "P", "S", "T", "W", "symbols",
    "FloorDiv", "floordiv", "ceildiv", "mod", "pretty", "latex",
    *_layer_names,
    "Sequential", "Graph", "Input", "Node",
    "analyze", "Analysis", "LayerRecord", "ReceptiveField",
]
