"""What every layer shares: argument checking, shapes, constraints and the per-layer result record.

A layer is an immutable spec built with PyTorch's class and argument names. Its :meth:`Layer.infer` turns
input shapes into a :class:`LayerResult`: output shape, parameters, buffers, MACs, FLOPs, connections,
the receptive-field map of each spatial axis and the conditions that stay symbolic. Each layer family's
module holds its formulas; nothing here knows a formula.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy

from .._errors import SymcnnError
from .._intmath import decide, normalize
from ..present import fmt as fmt
from ..present import pretty

__all__ = [
    "Layer",
    "LayerResult",
    "AxisMap",
    "Shape",
    "Condition",
    "Checker",
    "IDENTITY_AXIS",
    "prod",
    "fmt",
]


class Shape(tuple):
    """A tensor shape without the batch dimension: ``(C, *spatial)``; entries are SymPy integers."""

    def __repr__(self) -> str:
        return fmt(tuple(self))

    __str__ = __repr__


def prod(values) -> sympy.Expr:
    out = sympy.Integer(1)
    for v in values:
        out = out * v
    return out


@dataclass(frozen=True)
class Condition:
    """A validity condition that could not be decided: ``relation`` must hold, else ``message`` applies."""

    relation: sympy.Basic
    message: str
    where: str = ""

    def __repr__(self) -> str:
        return f"{pretty(self.relation.lhs)} {self.relation.rel_op} {pretty(self.relation.rhs)}"


class Checker:
    """Collects conditions for one layer: raises at once when one is false, keeps undecided ones."""

    def __init__(self, label: str):
        self.label = label
        self.conditions: list[Condition] = []

    def require(self, relation, message) -> None:
        """Check ``relation``; ``message`` is a string, or a callable building it (only when it is needed)."""
        verdict = decide(relation)
        if verdict is True:
            return
        text = message() if callable(message) else message
        if verdict is False:
            raise SymcnnError(f"{self.label}: {text}")
        self.conditions.append(Condition(normalize(relation), text, self.label))


@dataclass(frozen=True)
class AxisMap:
    """How one spatial axis of a layer maps output positions to input positions (for receptive fields).

    ``kind`` is ``"window"`` (conv/pool: output j reads inputs ``j*stride - pad_left + [0, kernel)``;
    ``kernel`` is the effective kernel, ``dilation`` the step between its taps),
    ``"transposed"`` (output o reads inputs ``(o + pad_left - t*dilation)/stride`` for integer results;
    ``kernel``/``stride``/``pad_left``/``dilation`` are the layer's own), ``"upsample"`` (``stride`` is the
    scale factor and ``kernel`` the number of inputs per output along the axis) or ``"global"`` (every
    output reads the whole axis of size ``kernel``). ``mode`` names the index rule where the kind has several:
    an upsampling's interpolation (``nearest``, ``nearest-exact``, ``linear``, ``cubic``, with ``-align`` for
    ``align_corners=True``), ``adaptive`` for an adaptive pooling window (output j reads
    ``[floor(j*In/Out), ceil((j+1)*In/Out))``, ``stride`` = ``In/Out``). Read by :mod:`symcnn.receptive`.
    """

    kind: str
    kernel: sympy.Expr
    stride: sympy.Expr
    pad_left: sympy.Expr = sympy.Integer(0)
    dilation: sympy.Expr = sympy.Integer(1)
    exact: bool = True
    mode: str = ""


IDENTITY_AXIS = AxisMap("window", sympy.Integer(1), sympy.Integer(1))


@dataclass(frozen=True)
class LayerResult:
    """Everything a layer contributes, for given input shapes. Quantities are SymPy expressions."""

    output_shape: Shape
    params: sympy.Expr = sympy.Integer(0)
    buffers: sympy.Expr = sympy.Integer(0)
    macs: sympy.Expr = sympy.Integer(0)
    flops: sympy.Expr = sympy.Integer(0)
    connections: sympy.Expr = sympy.Integer(0)
    axes: tuple[AxisMap, ...] | None = None  # None: elementwise along every spatial axis
    #: how dim 0 maps when a permute moved a spatial axis there (channels last); None: the layer treats dim 0 as
    #: channels, so a spatial axis there cannot be followed (the receptive field is then marked not exact)
    axis0: AxisMap | None = None
    #: a layer that only reorders dims (``Permute``): output dim ``i`` is input dim ``permutation[i]`` (batch
    #: excluded); the analysis follows the spatial axes through it
    permutation: tuple[int, ...] | None = None
    conditions: tuple[Condition, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


# --- argument coercion -------------------------------------------------------------------------------------

#: PyTorch stores sizes and layer arguments as int64: a larger number is refused
INT64_MAX = 2**63 - 1


def _is_int_expr(value: sympy.Expr) -> bool:
    return value.is_integer is True and all(s.is_integer for s in value.free_symbols)


def to_expr(label: str, name: str, value, *, minimum: int | None = None, checker: Checker | None = None):
    """One integer argument as a SymPy expression, refusing wrong types and out-of-range numbers.

    Symbols must carry ``integer=True`` (use :func:`symcnn.symbols`); a symbolic value whose range is not
    known adds a condition to ``checker``. Floats are refused, even integral ones (``3.0``, ``sympy.Float(3)``):
    PyTorch refuses them too. Numbers beyond int64 are refused (PyTorch cannot hold them).

    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, sympy.Basic)):
        kind = type(value).__name__
        raise SymcnnError(
            f"{label}: `{name}`={value!r} is a {kind}; expected an int or an integer SymPy expression"
        )
    expr = sympy.Integer(int(value)) if not isinstance(value, sympy.Basic) else value
    if isinstance(expr, sympy.Basic) and (expr.has(sympy.nan) or expr.atoms(sympy.Float)):
        what = "NaN" if expr.has(sympy.nan) else "a SymPy Float"
        raise SymcnnError(
            f"{label}: `{name}`={expr} is {what}; expected an int or an integer SymPy expression (PyTorch "
            "refuses floats here)"
        )
    if not isinstance(expr, sympy.Expr) or not _is_int_expr(expr):
        bad = sorted(str(s) for s in getattr(expr, "free_symbols", ()) if not s.is_integer)
        hint = (
            f" (symbol(s) {', '.join(bad)} lack integer=True; create them with symcnn.symbols)"
            if bad else (" (use // for an integer division)" if getattr(expr, "free_symbols", None) else "")
        )
        raise SymcnnError(f"{label}: `{name}`={fmt(expr)} is not an integer{hint}")
    if expr.is_Integer and abs(int(expr)) > INT64_MAX:
        raise SymcnnError(f"{label}: `{name}`={int(expr)} is beyond PyTorch's int64 range (|value| <= 2**63 - 1)")
    if minimum is not None:
        if expr.is_Integer:
            if int(expr) < minimum:
                what = "positive" if minimum == 1 else ("non-negative" if minimum == 0 else f">= {minimum}")
                raise SymcnnError(f"{label}: `{name}`={int(expr)} must be {what} (an integer >= {minimum})")
        elif checker is not None:
            checker.require(sympy.Ge(expr, minimum, evaluate=False),
                            lambda: f"`{name}`={fmt(expr)} must be >= {minimum}")
    return expr


def check_device_dtype(label: str, device, dtype) -> None:
    """PyTorch's ``device``/``dtype`` constructor arguments: accepted (they change no count) when None or a
    name such as ``"cpu"``/``"float16"``; a torch device or dtype object is accepted too."""
    for name, v in (("device", device), ("dtype", dtype)):
        if v is None or isinstance(v, str) or type(v).__module__.startswith("torch"):
            continue
        raise SymcnnError(f"{label}: `{name}`={v!r} must be None, a name or a torch {name} (it changes no count)")


def to_tuple(label: str, name: str, value, n: int, *, minimum: int | None = None,
             checker: Checker | None = None) -> tuple[sympy.Expr, ...]:
    """An int-or-tuple argument (PyTorch's ``_pair``/``_triple``) as a tuple of ``n`` expressions."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise SymcnnError(f"{label}: `{name}`={tuple(value)!r} must have {n} entries (one per spatial axis)")
        return tuple(to_expr(label, name, v, minimum=minimum, checker=checker) for v in value)
    return (to_expr(label, name, value, minimum=minimum, checker=checker),) * n


def spatial_axes_names(n: int) -> tuple[str, ...]:
    return {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}.get(n, tuple(f"x{i}" for i in range(n)))


class Layer:
    """Base class of every layer: an immutable spec with PyTorch's argument names.

    Subclasses set their attributes in ``__init__`` through :meth:`_set` and implement :meth:`infer`.
    Layers are compared by identity (like ``nn.Module``): using one layer object twice shares its
    parameters.
    """

    #: number of inputs the layer takes (merge layers: None = any number >= 2)
    n_inputs: int | None = 1
    #: False for bookkeeping layers that produce no tensor of their own (a parameter count carried after the
    #: output): the analysis counts no activations (nor their memory) for them
    counts_activations: bool = True
    _frozen = False

    def __init_subclass__(cls, **kwargs):
        """Wrong arguments (unknown keyword, too many or missing) raise SymcnnError naming the layer and the
        arguments it takes, not Python's TypeError."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_checks_arguments", False):
            return
        sig = inspect.signature(init)
        names = [n for n, p in list(sig.parameters.items())[1:] if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        fast = _fast_binding(sig)

        @functools.wraps(init)
        def checked(self, *args, **kw):
            if fast is not None and fast(args, kw):  # the arguments bind: no signature walk per layer built
                init(self, *args, **kw)
                return
            try:
                sig.bind(self, *args, **kw)
            except TypeError as e:
                raise SymcnnError(
                    f"{type(self).__name__}: {e}; it takes {', '.join(f'`{n}`' for n in names) or 'no arguments'}"
                ) from None
            init(self, *args, **kw)

        checked._checks_arguments = True
        cls.__init__ = checked

    def _set(self, **kwargs) -> None:
        for k, v in kwargs.items():
            object.__setattr__(self, k, v)

    def _freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, key, value):
        if self._frozen:
            raise AttributeError(f"{type(self).__name__} is immutable; build a new layer instead")
        object.__setattr__(self, key, value)

    @property
    def kind(self) -> str:
        return type(self).__name__

    @property
    def label(self) -> str:
        return self.kind

    #: constructor arguments shown in repr, in order: (name, default or a sentinel meaning "always show")
    _repr_args: tuple = ()

    def __repr__(self) -> str:
        parts = []
        for name, default in self._repr_args:
            value = getattr(self, name)
            if default is _SHOW or value != default:
                shown = fmt(value) if isinstance(value, (tuple, sympy.Basic)) else repr(value)
                parts.append(shown if default is _SHOW and not parts_have_kw(parts) else f"{name}={shown}")
        return f"{self.kind}({', '.join(parts)})"

    def infer(self, *input_shapes: Shape) -> LayerResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def batch_conditions(self, input_shapes: tuple[Shape, ...], batch, training: bool) -> tuple:
        """PyTorch's checks that count the batch dimension, which :meth:`infer` does not see: ``(relation,
        message)`` pairs that must hold for ``batch`` samples, in training mode or not (a norm's statistics
        need more than one value). :func:`symcnn.analyze` checks them at its batch, :func:`symcnn.training` at
        its own. None for most layers."""
        return ()

    def __call__(self, *inputs, name: str | None = None):
        """Functional API: apply the layer to graph nodes (see :class:`symcnn.Input`).

        The graph builds the node: a node's class carries the graph's ``_symcnn_apply`` (layers never
        import the graph).
        """
        return apply_to_nodes(self, inputs, name)

    # --- helpers for subclasses ------------------------------------------------------------------
    def _expect_rank(self, shape: Sequence, rank: int, what: str) -> None:
        if len(shape) != rank:
            raise SymcnnError(
                f"{self.label}: input shape {fmt(tuple(shape))} has {len(shape)} dims; expected {rank} "
                f"({what}, without the batch dimension)"
            )

    def _expect_channels(self, shape: Sequence, expected: sympy.Expr, checker: Checker, arg: str) -> None:
        checker.require(
            sympy.Eq(shape[0], expected),
            lambda: f"input has {fmt(shape[0])} channels but `{arg}`={fmt(expected)}",
        )


def _fast_binding(sig):
    """A check equivalent to ``sig.bind(self, *args, **kw)`` succeeding, for signatures without ``*args`` or
    ``**kw``, or with only both (None otherwise): ``inspect.Signature.bind`` costs tens of microseconds, paid by
    every layer an importer builds (a 200,000-node ONNX chain)."""
    params = list(sig.parameters.values())[1:]
    if params and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params) and len(params) == 2:
        return lambda args, kw: True  # (*args, **kwargs): every call binds (the layer checks its arguments)
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    positional = tuple(p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    keywords = frozenset(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    required = frozenset(p.name for p in params if p.default is p.empty)

    def binds(args, kw) -> bool:
        if len(args) > len(positional):
            return False
        given = positional[:len(args)]
        if kw and (not kw.keys() <= keywords or not kw.keys().isdisjoint(given)):
            return False
        return not required or required <= {*given, *kw}

    return binds


def not_nodes_error(module, inputs) -> SymcnnError:
    """The error for calling a layer or network on something other than graph nodes."""
    got = ", ".join(type(i).__name__ for i in inputs) or "nothing"
    return SymcnnError(
        f"{type(module).__name__}: call it on graph nodes (symcnn.Input() and the nodes layers return), "
        f"got {got}; to analyse a layer use symcnn.analyze(layer, input_shape)"
    )


def apply_to_nodes(module, inputs: tuple, name: str | None):
    """``module(*inputs)`` on graph nodes: the first input's type (the graph's ``Node``) builds the call."""
    apply = getattr(type(inputs[0]), "_symcnn_apply", None) if inputs else None
    if apply is None:
        raise not_nodes_error(module, inputs)
    return apply(module, inputs, name)


class _Show:
    def __repr__(self) -> str:
        return "<show>"


_SHOW = _Show()


def parts_have_kw(parts: list[str]) -> bool:
    return any("=" in p for p in parts)
