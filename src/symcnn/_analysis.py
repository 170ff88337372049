"""``analyze(model, input_shape)``: per-layer records and totals, symbolic until substituted.

>>> import symcnn as sc
>>> from symcnn import C, H, W, F, S, P
>>> a = sc.analyze(sc.Conv2d(C, 64, kernel_size=F, stride=S, padding=P), (C, H, W))
>>> a.output_shape
(64, floor((H + 2*P - F)/S) + 1, floor((W + 2*P - F)/S) + 1)
>>> a.params
64*C*F**2 + 64
>>> a.subs(C=3, H=224, W=224, F=7, S=2, P=3).output_shape   # 112 = floor((224 + 2*3 - 7)/2) + 1
(64, 112, 112)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from ._errors import SymcnnError
from ._evaluate import Substituter, free_symbols_of, gc_paused, make_function, resolve_symbols
from ._graph import Call, trace
from ._intmath import decide, normalize
from .layers._base import Condition, Layer, Shape, prod, to_expr
from .present import fmt, latex_display, pretty, render, rf_cell, to_html
from .receptive import (
    INPUT_AXIS,
    INPUT_DEPS,
    AxisDeps,
    AxisState,
    ReceptiveField,
    apply_axis,
    apply_deps,
    at_position,
    bounded,
    merge_deps,
    merge_states,
)

__all__ = ["analyze", "Analysis", "LayerRecord", "QUANTITIES", "DTYPE_BYTES"]

#: the additive quantities every record and every analysis carries
QUANTITIES = ("params", "buffers", "macs", "flops", "connections", "activations")

DTYPE_BYTES = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4, "int16": 2,
    "int8": 1, "uint8": 1, "bool": 1,
}


@dataclass(frozen=True)
class LayerRecord:
    """One layer call of an analysed network.

    ``params`` is 0 for a layer object already counted at an earlier call (shared weights, ``shared=True``).
    ``receptive_field`` is that of the layer's output with respect to the network input.
    """

    index: int
    name: str
    kind: str
    layer: Layer
    inputs: tuple[int, ...]
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    params: sympy.Expr
    buffers: sympy.Expr
    macs: sympy.Expr
    flops: sympy.Expr
    connections: sympy.Expr
    activations: sympy.Expr
    receptive_field: ReceptiveField
    shared: bool = False

    @property
    def input_shape(self) -> Shape:
        return self.input_shapes[0]

    def as_dict(self) -> dict:
        return {
            "index": self.index, "name": self.name, "kind": self.kind,
            "input_shape": self.input_shape, "output_shape": self.output_shape,
            **{q: getattr(self, q) for q in QUANTITIES},
            "receptive_field": rf_cell(self.receptive_field),
        }


def _integer_value(label: str, name: str, v, minimum: int | None = None) -> sympy.Expr:
    """An int or integer SymPy expression; nan, infinities, fractions and expressions that are not integers for
    every value of their symbols are refused (a Float with an integer value is converted exactly)."""
    if isinstance(v, sympy.Basic) and v.is_Number and not v.is_Integer:
        if isinstance(v, sympy.Float) and v.is_finite and (v - int(v)).is_zero:
            v = sympy.Integer(int(v))  # sympy.Float(3.0): exactly 3
        else:
            low = "" if minimum is None else f" >= {minimum}"
            raise SymcnnError(f"{label}: `{name}`={v} must be an integer{low}")
    if isinstance(v, sympy.Basic) and (v.has(sympy.nan, sympy.oo, -sympy.oo, sympy.zoo) or v.is_finite is False):
        raise SymcnnError(f"{label}: `{name}`={v} must be a finite integer")
    e = to_expr(label, name, v, minimum=minimum)
    if e.is_integer is not True:
        raise SymcnnError(f"{label}: `{name}`={fmt(e)} is not an integer for every value of its symbols")
    return e


def _as_shape(input_shape) -> Shape:
    """The input shape as SymPy integers (see :func:`_input_shape`)."""
    return _input_shape(input_shape)[0]


def _input_shape(input_shape) -> tuple[Shape, list[Condition]]:
    """The input shape as SymPy integers, refusing what no tensor has (sizes below 1, nan, fractions) and
    returning the conditions a symbolic size leaves (``W - 5 >= 1``)."""
    if isinstance(input_shape, (int, sympy.Basic)) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise SymcnnError(
            f"analyze: `input_shape`={input_shape!r} must be a non-empty tuple such as (3, 224, 224) or "
            "(C, H, W) (channels first, without the batch dimension)"
        )
    out, conds = [], []
    for i, v in enumerate(input_shape):
        e = _integer_value("analyze", "input_shape", v, minimum=1)
        if not e.is_Integer:
            verdict = decide(sympy.Ge(e, 1))
            if verdict is False:
                raise SymcnnError(f"analyze: `input_shape`[{i}]={fmt(e)} is below 1 for every value of its symbols")
            if verdict is None:
                conds.append(Condition(normalize(sympy.Ge(e, 1)), f"`input_shape`[{i}]={fmt(e)} must be >= 1", "input"))
        out.append(e)
    return Shape(tuple(out)), conds


def batch_conditions(calls, batch, *, training: bool) -> list[Condition]:
    """The checks of each call (or record) that count the batch (:meth:`Layer.batch_conditions`) at ``batch``:
    a false one is refused at once, naming the layer; an undecided one is returned as a condition."""
    out = []
    for call in calls:
        for relation, message in call.layer.batch_conditions(call.input_shapes, batch, training):
            verdict = decide(relation)
            if verdict is True:
                continue
            where = f"layer {call.index} '{call.name}'"
            if verdict is False:
                shown = ", ".join(fmt(tuple(s)) for s in call.input_shapes)
                raise SymcnnError(f"{where} ({call.layer!r}) with input {shown} at batch {fmt(batch)}: {message}")
            out.append(Condition(normalize(relation), message, where))
    return out


def analyze(model, input_shape, *, batch=1) -> Analysis:
    """Analyse ``model`` (a layer, ``Sequential`` or ``Graph``) on inputs of ``input_shape``.

    Args:
        model: the network.
        input_shape: ``(C, *spatial)`` without the batch dimension; entries are ints or integer symbols.
        batch: batch size (int or symbol) multiplying MACs, FLOPs, connections and activations, and the batch
            PyTorch's checks that count it are made at (a ``GroupNorm`` needs more than 1 value per group).

    Returns:
        An :class:`Analysis` with the output shape, per-layer records, totals, the receptive field and the
        conditions that stay symbolic.
    """
    return _analyze(model, input_shape, batch, batch_checks=True)


def analyze_sample(model, input_shape) -> Analysis:
    """:func:`analyze` at batch 1 without the checks that count the batch (:func:`batch_conditions`), for a
    caller that checks them at its own batch (:func:`symcnn.training`)."""
    return _analyze(model, input_shape, 1, batch_checks=False)


def _analyze(model, input_shape, batch, *, batch_checks: bool) -> Analysis:
    with gc_paused():  # many small expression objects, no cycles worth collecting: ~1.5x faster on long chains
        return _analyze_walk(model, input_shape, batch, batch_checks=batch_checks)


def _analyze_walk(model, input_shape, batch, *, batch_checks: bool) -> Analysis:
    shape, conditions = _input_shape(input_shape)
    batch = to_expr("analyze", "batch", batch, minimum=1)
    calls, out = trace(model, shape)
    if out < 0:
        raise SymcnnError("analyze: the model has no layers")
    if batch_checks:
        conditions.extend(batch_conditions(calls, batch, training=False))
    states: list[tuple[AxisState, ...]] = []
    deps: list[tuple[AxisDeps, ...]] = []
    aligned: list[bool | None] = []
    notes: list[tuple[str, ...]] = []
    layouts: list[tuple[int, ...] | None] = []  # per tensor: the dim (batch excluded) each spatial axis is at
    records = []
    seen: set[int] = set()
    n_axes = len(shape) - 1
    rf, rf_key = None, None
    for call in calls:
        dp = _dependencies(call, deps, shape[1:], layouts)
        st, al, nt = _propagate(call, states, aligned, notes, n_axes, layouts)
        states.append(st)
        deps.append(dp)
        aligned.append(al)
        notes.append(nt)
        res = call.result
        key = (id(st), id(dp), al, id(nt))  # element-wise layers pass their input's field on: build it once
        if key != rf_key:
            positions = _positions(res.output_shape, layouts[-1], n_axes)
            rf, rf_key = ReceptiveField.from_states(st, dp, positions, al, nt), key
        shared = id(call.layer) in seen
        seen.add(id(call.layer))
        conditions.extend(dataclasses.replace(c, where=f"layer {call.index} '{call.name}'") for c in res.conditions)
        records.append(LayerRecord(
            index=call.index, name=call.name, kind=call.layer.kind, layer=call.layer, inputs=call.inputs,
            input_shapes=call.input_shapes, output_shape=res.output_shape,
            params=sympy.Integer(0) if shared else res.params,
            buffers=sympy.Integer(0) if shared else res.buffers,
            macs=batch * res.macs, flops=batch * res.flops, connections=batch * res.connections,
            activations=batch * prod(res.output_shape) if call.layer.counts_activations else sympy.Integer(0),
            receptive_field=rf,
            shared=shared,
        ))
    return Analysis(model, shape, batch, tuple(records), out, _dedupe(conditions))


def _dedupe(conditions: list[Condition]) -> tuple[Condition, ...]:
    """Drop repeated conditions and lower bounds implied by a stronger one (``W >= 4`` beside ``W >= 32``)."""
    out: dict = {}
    strongest: dict = {}
    for c in conditions:
        rel = c.relation
        if isinstance(rel, sympy.GreaterThan) and rel.rhs.is_Integer:
            best = strongest.get(rel.lhs)
            if best is None or rel.rhs > best.relation.rhs:
                strongest[rel.lhs] = c
            continue
        out.setdefault(rel, c)
    return tuple(strongest.values()) + tuple(out.values())


def _propagate(call: Call, states, aligned, notes, n_axes, layouts):
    """Receptive-field state of a call's output from those of its inputs (appends the output's layout)."""
    home = tuple(range(1, n_axes + 1))  # spatial axis i at dim i + 1: channels first
    in_states = [tuple([INPUT_AXIS] * n_axes) if r < 0 else states[r] for r in call.inputs]
    in_aligned = [True if r < 0 else aligned[r] for r in call.inputs]
    in_layouts = [home if r < 0 else layouts[r] for r in call.inputs]
    in_notes = _join_notes(*(notes[r] for r in call.inputs if r >= 0))
    res = call.result
    axes = res.axes
    mapped = []
    for k, st in enumerate(in_states):
        maps = axes[k] if axes and isinstance(axes[0], tuple) else axes
        if in_layouts[k] != home:
            mapped.append(_moved_axes(st, in_layouts[k], maps, res.axis0, len(call.input_shapes[k])))
        elif maps is None or len(maps) != len(st):  # element-wise, or the spatial axes are already gone
            mapped.append(st)
        else:
            mapped.append(tuple(apply_axis(s, m) for s, m in zip(st, maps, strict=True)))
    layout = in_layouts[0] if all(lay == in_layouts[0] for lay in in_layouts) else None
    if layout is None:
        mapped = [tuple(dataclasses.replace(s, exact=False) for s in st) for st in mapped]
    elif res.permutation is not None:
        layout = tuple(res.permutation.index(d) for d in layout)
    elif layout != home and len(res.output_shape) != len(call.input_shapes[0]):
        layout = None  # a permuted tensor changes rank: its spatial axes are no longer followed
    layouts.append(layout)
    flags = list(in_aligned)
    if len(mapped) == 1:
        return mapped[0], flags[0], in_notes
    merged, al, nt = merge_states(mapped, _broadcast(call, home, in_layouts))
    overall = False if (al is False or False in flags) else (None if (al is None or None in flags) else True)
    return merged, overall, _join_notes(in_notes, nt)


def _positions(shape, layout, n_axes) -> tuple:
    """The number of positions along each input axis in a tensor of ``shape`` (1 where the axis is gone)."""
    if layout is None or len(shape) <= 1:
        return (sympy.Integer(1),) * n_axes
    return tuple(shape[d] if 0 <= d < len(shape) else sympy.Integer(1) for d in layout)


def _dependencies(call: Call, deps, sizes, layouts) -> tuple[AxisDeps, ...]:
    """The exact dependency maps of a call's output (receptive.py) from its inputs' (``layouts``: theirs, before
    this call's is appended; ``sizes``: the network input's spatial sizes)."""
    home = tuple(range(1, len(sizes) + 1))
    res = call.result
    out = res.output_shape
    branches = []
    for k, r in enumerate(call.inputs):
        st = tuple([INPUT_DEPS] * len(sizes)) if r < 0 else deps[r]
        lay = home if r < 0 else layouts[r]
        maps = res.axes[k] if res.axes and isinstance(res.axes[0], tuple) else res.axes
        x = call.input_shapes[k]
        where = f"layer {call.index} '{call.name}'"
        mapped = []
        for i, s in enumerate(st):
            d = None if lay is None else lay[i]
            if maps is None and lay is not None:  # element-wise
                mapped.append(s)
            elif d == 0 and res.axis0 is not None:
                mapped.append(apply_deps(s, res.axis0, x[0], out[0] if len(out) == len(x) else None, where))
            elif lay == home and maps is not None and (len(maps) != len(sizes) or len(x) != len(home) + 1):
                mapped.append(s)  # the spatial axes are already gone (a flattened or reshaped tensor)
            elif d is not None and 1 <= d < len(x) and maps is not None and len(maps) == len(x) - 1:
                mapped.append(apply_deps(s, maps[d - 1], x[d], out[d] if len(out) == len(x) else None, where))
            else:
                mapped.append(dataclasses.replace(s, exact=False, notes=(
                    *s.notes, f"{where}: an axis moved where the layer's map cannot follow it")))
        branches.append(tuple(mapped))
    if len(branches) == 1 and call.inputs[0] >= 0 and all(
            a is b for a, b in zip(branches[0], deps[call.inputs[0]], strict=True)):
        return deps[call.inputs[0]]  # element-wise: the input's maps (and its field, built once)
    spread = len(branches) > 1 and _broadcast(call, home, [home if r < 0 else layouts[r] for r in call.inputs])
    if spread:  # a branch of size 1 along an axis is read at position 0 by every output
        branches = [tuple(dataclasses.replace(s, lo=at_position(s.lo, 0), hi=at_position(s.hi, 0))
                          if spread[k][i] else s for i, s in enumerate(b)) for k, b in enumerate(branches)]
    merged = (merge_deps(list(axis)) for axis in zip(*branches, strict=True))
    return tuple(bounded(m, sizes[i], f"layer {call.index} '{call.name}'") for i, m in enumerate(merged))


def _broadcast(call: Call, home, layouts):
    """Per input and spatial axis: size 1 where the output's size is not (an input broadcast along it)."""
    out = call.result.output_shape
    if len(out) != len(home) + 1 or any(lay != home or len(x) != len(out)
                                         for lay, x in zip(layouts, call.input_shapes, strict=True)):
        return None
    return [[x[i] == 1 and out[i] != 1 for i in range(1, len(out))] for x in call.input_shapes]


def _moved_axes(st, layout, maps, axis0, rank: int):
    """The fields of a tensor whose spatial axes a permute moved (``layout[i]``: the dim of axis ``i``): each axis
    takes the map of the dim it is at; one that cannot be followed is marked not exact, never guessed."""
    if maps is None and layout is not None:  # element-wise
        return st
    out = []
    for i, s in enumerate(st):
        d = None if layout is None else layout[i]
        if d == 0 and axis0 is not None:
            out.append(apply_axis(s, axis0))
        elif d is not None and d >= 1 and maps is not None and len(maps) == rank - 1:
            out.append(apply_axis(s, maps[d - 1]))
        else:
            out.append(dataclasses.replace(s, exact=False))
    return tuple(out)


#: receptive-field notes kept per tensor (distinct, in order); further ones are summarised in one line
MAX_NOTES = 32
_MORE = "further receptive-field notes omitted"


def _join_notes(*lists) -> tuple[str, ...]:
    """The notes of several inputs as one ordered set, at most ``MAX_NOTES`` (never a growing list: a
    network with many misaligned merges would otherwise repeat every note once per path)."""
    if len(lists) == 1:
        return tuple(lists[0])
    out = dict.fromkeys(n for lst in lists for n in lst if n != _MORE)
    if len(out) > MAX_NOTES or any(_MORE in lst for lst in lists):
        return (*list(out)[:MAX_NOTES], _MORE)
    return tuple(out)


def _cell(cell) -> str:
    return cell if isinstance(cell, str) else "(" + ", ".join(c if isinstance(c, str) else fmt(c) for c in cell) + (
        ",)" if len(cell) == 1 else ")")


def _flatten(value):
    if isinstance(value, (tuple, list)):
        for v in value:
            yield from _flatten(v)
    else:
        yield value


class Analysis:
    """The result of :func:`analyze`: per-layer records, totals and conditions, all SymPy expressions.

    Attributes:
        output_shape: shape of the network output (without batch).
        layers: the :class:`LayerRecord` of every layer call, in execution order.
        params, buffers, macs, flops, connections, activations: totals over the layers.
        receptive_field: of the network output.
        constraints: validity conditions that stay symbolic, as SymPy relations.
        conditions: the same with the message and the layer each comes from.
    """

    def __init__(self, model, input_shape: Shape, batch, layers: tuple[LayerRecord, ...], out: int,
                 conditions: tuple[Condition, ...]):
        self.model = model
        self.input_shape = input_shape
        self.batch = batch
        self.layers = layers
        self._out = out
        self.conditions = conditions
        self._free: set | None = None
        for q in QUANTITIES:
            setattr(self, q, sympy.Add(*[getattr(r, q) for r in layers]))

    @property
    def output_shape(self) -> Shape:
        return self.layers[self._out].output_shape

    @property
    def receptive_field(self) -> ReceptiveField:
        return self.layers[self._out].receptive_field

    @property
    def constraints(self) -> list[sympy.Basic]:
        return [c.relation for c in self.conditions]

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        if self._free is None:
            exprs = [*self.input_shape, *(c.relation for c in self.conditions)]
            for r in self.layers:
                exprs.extend(getattr(r, q) for q in QUANTITIES)
                exprs.extend(r.output_shape)
            self._free = free_symbols_of(exprs)
        return set(self._free)

    def __getitem__(self, name: str) -> LayerRecord:
        for r in self.layers:
            if r.name == name:
                return r
        raise KeyError(f"no layer named {name!r}; names: {', '.join(r.name for r in self.layers)}")

    def activation_bytes(self, dtype: str = "float32") -> sympy.Expr:
        """Total activation memory (every layer output kept) in bytes for ``dtype``."""
        if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
            raise SymcnnError(f"activation_bytes: `dtype`={dtype!r} must be one of {', '.join(DTYPE_BYTES)}")
        return DTYPE_BYTES[dtype] * self.activations

    def param_bytes(self, dtype: str = "float32") -> sympy.Expr:
        """Parameter memory in bytes for ``dtype`` (VGG16: 138,357,544 * 4 = 553,430,176 B = 527.8 MiB)."""
        if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
            raise SymcnnError(f"param_bytes: `dtype`={dtype!r} must be one of {', '.join(DTYPE_BYTES)}")
        return DTYPE_BYTES[dtype] * self.params

    # --- substitution ---------------------------------------------------------------------------
    def _mapping(self, mapping, kwargs) -> dict:
        by_name = {s.name: s for s in self.free_symbols}
        out: dict = {}
        if mapping is not None and not isinstance(mapping, Mapping):
            raise SymcnnError(f"subs: `mapping`={mapping!r} must be a dict of symbol (or name) -> value")
        items = list((mapping or {}).items()) + list(kwargs.items())
        for key, value in items:
            if isinstance(key, str):
                if key not in by_name:
                    known = ", ".join(sorted(by_name)) or "none"
                    raise SymcnnError(f"subs: `{key}` is not a symbol of this analysis (symbols: {known})")
                key = by_name[key]
            elif not isinstance(key, sympy.Symbol):
                raise SymcnnError(f"subs: key {key!r} must be a symbol or a symbol name")
            out[key] = _integer_value("subs", key.name, value)
        return out

    def subs(self, mapping: Mapping | None = None, **kwargs) -> Analysis:
        """Substitute values (ints or expressions) for symbols, by symbol or by name.

        Conditions that become false raise :class:`SymcnnError` naming the layer; true ones disappear.
        """
        m = self._mapping(mapping, kwargs)
        self._check_ranges(m)
        return self._subs(m)

    def _where(self, sym: sympy.Symbol) -> str:
        """The first layer argument (or the input shape) that uses ``sym``, for messages."""
        for r in self.layers:
            for name, value in vars(r.layer).items():
                if name.startswith("_"):
                    continue
                if any(isinstance(v, sympy.Basic) and sym in v.free_symbols for v in _flatten(value)):
                    return f"layer {r.index} '{r.name}' ({r.kind}): `{name}`"
        if any(sym in v.free_symbols for v in self.input_shape):
            return "analyze: `input_shape`"
        return "analyze: `batch`" if sym in sympy.sympify(self.batch).free_symbols else f"symbol `{sym}`"

    def _check_ranges(self, m: dict) -> None:
        """A value outside its symbol's range (a stride or group count below 1, a negative padding) is refused
        before anything is evaluated, naming the layer argument that uses the symbol."""
        for sym, value in m.items():
            low = 1 if sym.is_positive else (0 if sym.is_nonnegative else None)
            if low is None:
                continue
            if decide(sympy.Ge(value, low)) is False:
                what = "positive" if low == 1 else "non-negative"
                raise SymcnnError(
                    f"subs: {self._where(sym)} uses {sym}; {sym}={fmt(value)} is not allowed: {sym} is {what} "
                    f"(an integer >= {low})"
                )

    def _subs(self, m: dict) -> Analysis:
        where = ["analyze"]
        numbers = {k for k, v in m.items() if v.is_Rational}
        substitute = Substituter(m, try_numeric=self.free_symbols <= numbers)

        def rep(e):
            try:
                return substitute(e)
            except (SymcnnError, ZeroDivisionError, TypeError) as exc:
                values = ", ".join(f"{k}={fmt(v)}" for k, v in m.items())
                raise SymcnnError(f"subs: {where[0]}: cannot substitute {values}: {exc}") from None

        conds = []
        for c in self.conditions:
            where[0] = c.where
            rel = rep(c.relation)
            verdict = decide(rel)
            if verdict is False:
                values = ", ".join(f"{k}={fmt(v)}" for k, v in m.items())
                raise SymcnnError(f"{c.where}: {c.message} (false for {values})")
            if verdict is None:
                conds.append(dataclasses.replace(c, relation=rel))

        done: dict = {}  # tuples shared between records (an output shape is the next input shape)

        def sub(v):
            if isinstance(v, sympy.Basic):
                return rep(v)
            if isinstance(v, tuple):
                hit = done.get(id(v))
                if hit is not None and hit[0] is v:
                    return hit[1]
                out = tuple(sub(x) for x in v)
                out = Shape(out) if isinstance(v, Shape) else out
                done[id(v)] = (v, out)
                return out
            return v

        layers, memo = [], {}
        for r in self.layers:
            where[0] = f"layer {r.index} '{r.name}'"
            rf = r.receptive_field.subs(sub, m, memo)
            layers.append(dataclasses.replace(
                r, input_shapes=sub(r.input_shapes), output_shape=sub(r.output_shape), receptive_field=rf,
                **{q: sub(getattr(r, q)) for q in QUANTITIES},
            ))
        where[0] = "analyze"
        return Analysis(self.model, sub(self.input_shape), sub(self.batch), tuple(layers), self._out, tuple(conds))

    def lambdify(self, quantity: str = "macs", symbols=None, *, vectorized: bool = True):
        """A function of the free symbols (sorted by name, or ``symbols``) computing ``quantity``.

        ``quantity`` is a total (``"macs"``, ``"params"``, ...) or ``"output_shape"`` (returns a tuple).
        ``symbols`` may be symbols or their names. Evaluation is exact integer arithmetic: with
        ``vectorized=True`` (default) a NumPy function over int64 arrays when no value can overflow int64
        (checked per call), else over arrays of Python ints; with ``vectorized=False`` plain Python on ints
        (unbounded, no NumPy import, about 15 times cheaper to create: the right choice for a few sizes).
        Values outside a symbol's range (a size below 1) are refused.

        >>> import symcnn as sc
        >>> a = sc.analyze(sc.Conv2d(3, 8, 3, stride=2), (3, sc.H, sc.W))
        >>> a.lambdify("macs", vectorized=False)(31, 32)   # 8*3*9 * 15 * 15 = 48,600
        48600
        >>> a.lambdify("macs")([31, 63], [32, 64]).tolist()   # 63 x 64 -> 31 x 31: 216 * 961
        [48600, 207576]
        """
        if quantity == "output_shape":
            expr = tuple(self.output_shape)
        elif quantity in QUANTITIES:
            expr = getattr(self, quantity)
        else:
            raise SymcnnError(f"lambdify: `quantity`={quantity!r} must be one of {', '.join(QUANTITIES)}, output_shape")
        free = sympy.Tuple(*expr).free_symbols if isinstance(expr, tuple) else expr.free_symbols
        args = resolve_symbols(free, symbols)
        call = make_function(expr, args, vectorized=vectorized)
        call.symbols = tuple(args)
        call.__doc__ = f"{quantity}({', '.join(s.name for s in args)})"
        return call

    # --- display ---------------------------------------------------------------------------------
    def table(self) -> str:
        """A plain-text per-layer table with totals."""
        head = ["#", "name", "kind", "output", "params", "MACs", "RF"]
        rows = [[str(r.index), r.name, r.kind, fmt(r.output_shape), pretty(r.params), pretty(r.macs),
                 _cell(rf_cell(r.receptive_field))] for r in self.layers]
        rows.append(["", "total", "", fmt(self.output_shape), pretty(self.params), pretty(self.macs), ""])
        widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
        return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])

    def _repr_html_(self) -> str:
        """Jupyter: the per-layer table as HTML (see :mod:`symcnn.present`)."""
        return to_html(self, "analysis")

    def _repr_latex_(self) -> str:
        """Jupyter: the totals as display math."""
        return latex_display(self)

    def to(self, format: str = "markdown", title: str = "model") -> str:  # noqa: A002 - the natural name
        """The summary as ``"table"`` (terminal), ``"markdown"``, ``"latex"``, ``"csv"``, ``"json"`` or ``"html"``.

        >>> import symcnn as sc
        >>> print(sc.analyze(sc.Conv2d(3, 8, 3), (3, 8, 8)).to("csv").splitlines()[1])
        0,Conv2d,Conv2d,"(8, 6, 6)",224,7776,15552,8064,288,"(3, 3)"
        """
        return render(self, format, title)

    def __repr__(self) -> str:
        return (f"Analysis(input_shape={fmt(self.input_shape)}, output_shape={fmt(self.output_shape)}, "
                f"layers={len(self.layers)}, params={pretty(self.params)}, macs={pretty(self.macs)})")
