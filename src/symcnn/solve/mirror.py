"""`mirror_output_padding`: the output_padding of a decoder that restores its encoder's sizes."""

from __future__ import annotations

import dataclasses

import sympy

from .._analysis import analyze
from .._errors import SymcnnError
from .._graph import Sequential
from .._intmath import decide, floordiv
from ..layers._base import Layer, fmt
from ..layers.conv import _ConvNd, effective_kernel
from ..layers.pool import _PoolNd
from ..layers.transposed import _ConvTransposeNd
from ._inputs import check_input_shape
from .results import OutputPaddings, _with_output_padding


def _flat_layers(model, which: str, arg: str) -> list:
    if isinstance(model, Layer):
        return [model]
    if isinstance(model, (Sequential, list, tuple)):
        return [x for m in model for x in _flat_layers(m, which, arg)]
    raise SymcnnError(
        f"{which}: `{arg}` must be a layer, a list of layers or a Sequential, got {type(model).__name__}"
    )


def mirror_output_padding(encoder, decoder, input_shape) -> OutputPaddings:
    """The ``output_padding`` of every transposed layer of ``decoder`` such that each decoder stage restores
    the size of its mirrored encoder stage, as a formula in the input size (derivation transposed_offset):
    ``output_padding = (X + P_l + P_r - F_eff) mod S`` with ``X`` the encoder stage's input size.

    Encoder stages are the convolution / pooling layers that change the spatial size; the last one pairs with
    the first transposed layer of the decoder, and so on. The decoder's own ``output_padding`` is ignored.

    Examples:
        >>> import symcnn as sc
        >>> enc = sc.Sequential(sc.Conv2d(3, 8, 3, stride=2, padding=1), sc.Conv2d(8, 8, 3, stride=2, padding=1))
        >>> dec = sc.Sequential(sc.ConvTranspose2d(8, 8, 3, stride=2, padding=1),
        ...                     sc.ConvTranspose2d(8, 3, 3, stride=2, padding=1))
        >>> r = mirror_output_padding(enc, dec, (3, sc.H, sc.W))
        >>> r.output_padding[1]              # (W + 2*1 - 3) mod 2
        (Mod(H + 1, 2), Mod(W + 1, 2))
        >>> r.at(H=64, W=65)
        [(1, 0), (1, 0)]
    """
    which = "mirror_output_padding"
    dec_layers = _flat_layers(decoder, which, "decoder")
    input_shape = check_input_shape(which, input_shape)
    try:
        enc = analyze(encoder, input_shape)
    except SymcnnError as e:
        raise SymcnnError(
            f"{which}: the encoder cannot be analysed on `input_shape`={input_shape!r}: {e}"
        ) from None
    stages = []
    for r in enc.layers:
        if isinstance(r.layer, (_ConvNd, _PoolNd)) and not isinstance(r.layer, _ConvTransposeNd):
            same = all(
                decide(sympy.Eq(a, b)) is True
                for a, b in zip(tuple(r.input_shape)[1:], tuple(r.output_shape)[1:], strict=True)
            )
            if not same:
                stages.append(r)
    trans = [i for i, m in enumerate(dec_layers) if isinstance(m, _ConvTransposeNd)]
    if len(trans) != len(stages):
        raise SymcnnError(
            f"{which}: `decoder` has {len(trans)} transposed layer(s) but `encoder` has"
            f" {len(stages)} stage(s) that change the size ({', '.join(r.name for r in stages) or 'none'});"
            " they must pair up"
        )
    sym_layers = list(dec_layers)
    op_syms = {}
    for j, i in enumerate(trans):
        layer = dec_layers[i]
        ops = tuple(sympy.Symbol(f"_op{j}_{a}", integer=True, nonnegative=True) for a in range(layer._dims))
        op_syms[j] = ops
        sym_layers[i] = _with_output_padding(layer, ops)
    try:
        dec = analyze(Sequential(*sym_layers), enc.output_shape)
    except SymcnnError as e:
        raise SymcnnError(
            f"{which}: the decoder cannot follow the encoder output {fmt(enc.output_shape)}: {e}"
        ) from None
    solved: dict[sympy.Symbol, sympy.Expr] = {}
    values = []
    pairs = []
    rec_by_layer = {}
    pos = 0
    for r in dec.layers:  # records follow the flat layer order
        rec_by_layer[pos] = r
        pos += 1
    for j, i in enumerate(trans):
        stage = stages[len(stages) - 1 - j]
        rec = rec_by_layer[i]
        want = tuple(stage.input_shape)[1:]
        got = tuple(rec.output_shape)[1:]
        row = []
        for a, (w, g, op) in enumerate(zip(want, got, op_syms[j], strict=True)):
            g = sympy.sympify(g).xreplace(solved)
            value = sympy.expand(w - (g - op))
            pretty_value = _as_mod(value, stage, a, w)
            solved[op] = value
            row.append(pretty_value)
        values.append(tuple(row))
        pairs.append((stage, i))
    conditions = []
    for c in dec.conditions:
        rel = c.relation.xreplace(solved)
        if decide(rel) is not True:
            conditions.append(dataclasses.replace(c, relation=rel))
    syms = set()
    for v in enc.input_shape[1:]:
        syms |= sympy.sympify(v).free_symbols
    return OutputPaddings(
        [dec_layers[i] for i in trans], values, pairs, frozenset(syms), conditions, dec_layers
    )


def _as_mod(value, stage, a, x):
    """``value`` as ``Mod(X + P_l + P_r - F_eff, S)`` when that is what it is (the mirrored case)."""
    layer = stage.layer
    pads = layer.pads(tuple(stage.input_shape)[1:]) if isinstance(layer, _ConvNd) else layer.padding
    pl, pr = pads[a]  # string modes ('same', 'valid', 'full') resolved to this stage's (left, right)
    s = layer.stride[a]
    u = sympy.expand(x + pl + pr - effective_kernel(layer.kernel_size[a], layer.dilation[a]))
    if sympy.expand(value - (u - s * floordiv(u, s))) == 0:
        return sympy.Mod(u, s)
    return value
