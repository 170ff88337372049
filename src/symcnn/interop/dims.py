"""``torch.export`` dynamic shapes from the solver: the ``Dim`` of each free input size, right the first time.

    d = sc.export_dims(sc.models.resnet50(), (3, sc.H, sc.W))
    print(d.explain())          # H: 33 <= H <= 4096, and why (the layer whose size would be 1 below 33)
    torch.export.export(model, (x,), dynamic_shapes=d.dynamic_shapes)

Two things make an export with a naive ``Dim("h", min=..., max=...)`` fail that symcnn knows in advance:

* **Sizes of 0 and 1 are specialised.** torch.export guards every size that could be 1 (a size-1 axis
  broadcasts), so a range in which some layer's output size along that axis reaches 1 is refused ("Not all
  values of h ... satisfy the generated guard ... != 1"). The emitted minimum is the smallest valid size at
  which every size computed from it is at least 2 (ResNet-50: ceil(H/32) >= 2, so H >= 33).
* **Size arithmetic it cannot prove.** Layers that crop one branch to another (U-Net's skip connections)
  make torch guard on floors of differences of floors. Where the network's exact sizes form one progression
  (every floor division exact: U-Net W = 16k + 124), a derived dim ``16*k + 124`` makes each size linear in
  ``k`` and the export goes through; the exported program then accepts only sizes of that form.

Each constraint is explained in words with the layer that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .._analysis import analyze
from .._errors import SymcnnError
from .._symbols import size_symbol
from ..layers import CropConcat
from ..solve import valid_input_sizes

__all__ = ["export_dims", "ExportDims", "AxisDim", "check_export", "spatial_sizes"]

_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("T", "H", "W")}


@dataclass(frozen=True)
class AxisDim:
    """The sizes one input axis may take: ``step * k + offset`` for ``k`` in ``[k_min, k_max]``."""

    symbol: sympy.Symbol
    axis: int  # index in the input tensor, batch axis included
    step: int
    offset: int
    k_min: int
    k_max: int
    reasons: tuple[str, ...]

    @property
    def min(self) -> int:
        return self.step * self.k_min + self.offset

    @property
    def max(self) -> int:
        return self.step * self.k_max + self.offset

    def __contains__(self, size) -> bool:
        return self.min <= size <= self.max and (size - self.offset) % self.step == 0

    def describe(self) -> str:
        name = str(self.symbol)
        if self.step == 1:
            return f"{self.min} <= {name} <= {self.max}"
        return (f"{name} = {self.step}k + {self.offset}, {self.k_min} <= k <= {self.k_max} "
                f"({name} in {self.min}, {self.min + self.step}, ..., {self.max})")


class ExportDims:
    """What :func:`export_dims` returns: one :class:`AxisDim` per free axis, ``dynamic_shapes`` for
    ``torch.export.export`` and :meth:`explain`."""

    def __init__(self, axes: tuple[AxisDim, ...], arg_name: str | None):
        self.axes = axes
        self.arg_name = arg_name

    @property
    def dynamic_shapes(self):
        """The ``dynamic_shapes`` argument: ``({axis: Dim, ...},)`` (or ``{arg_name: {...}}``)."""
        Dim = _torch().export.Dim
        spec = {}
        for a in self.axes:
            name = str(a.symbol).lower()
            if a.step == 1:
                spec[a.axis] = Dim(name, min=a.min, max=a.max)
            else:
                k = Dim(f"k_{name}", min=a.k_min, max=a.k_max)
                spec[a.axis] = a.step * k + a.offset
        return {self.arg_name: spec} if self.arg_name else (spec,)

    def example(self, input_shape, *, batch: int = 1, device="cpu"):
        """A zero tensor to trace with: every dynamic axis at its second size (``min + step``; the minimum when
        the range has one size), the other axes from ``input_shape`` (``(C, *spatial)``, numbers where fixed)."""
        torch = _torch()
        sizes = [batch] + [int(v) if not isinstance(v, sympy.Basic) or v.is_number else 0 for v in input_shape]
        for a in self.axes:
            sizes[a.axis] = a.min + a.step if a.k_max > a.k_min else a.min
        if 0 in sizes:
            raise SymcnnError(f"export_dims: `input_shape`={tuple(input_shape)} has a symbolic size that is not "
                              "one of the dynamic axes")
        return torch.zeros(sizes, device=device)

    def explain(self) -> str:
        lines = []
        for a in self.axes:
            lines.append(f"{a.symbol}: {a.describe()}")
            lines.extend(f"  - {r}" for r in a.reasons)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "ExportDims(" + "; ".join(a.describe() for a in self.axes) + ")"


def _torch():
    try:
        import torch
        import torch.export  # noqa: F401 - the submodule is not loaded by ``import torch`` alone
    except ImportError:  # pragma: no cover - depends on the environment
        raise SymcnnError("export_dims: torch is not installed (pip install 'symcnn[torch]')") from None
    return torch


def _crops(analysis) -> list[str]:
    out = []
    for r in analysis.layers:
        layer = r.layer
        if isinstance(layer, CropConcat):
            out.append(r.name)
        elif type(layer).__name__.endswith(("Pad1d", "Pad2d", "Pad3d")) and any(
                not sympy.sympify(p).is_number or sympy.sympify(p) < 0 for pair in layer.padding for p in pair):
            out.append(r.name)  # a crop (a negative or size-dependent pad, as ONNX Slice reads)
    return out


def _first_reaching_one(analysis, symbol, other_subs, sizes) -> tuple[int | None, str | None]:
    """The smallest size in ``sizes`` at which every output size computed from ``symbol`` is >= 2, and the
    layer that forced it (the last one whose size was 1 just below)."""
    unique: dict[sympy.Expr, str] = {}  # each distinct size formula once, with the last layer that has it
    for r in analysis.layers:
        for e in r.output_shape[1:]:
            e = sympy.sympify(e)
            if symbol in e.free_symbols:
                unique[e.subs(other_subs)] = r.name
    exprs = [(name, e, sympy.lambdify(symbol, e, modules="math")) for e, name in unique.items()]
    blocker = None
    for v in sizes:
        bad = [(name, e) for name, e, fn in exprs if _at(fn, e, symbol, v) < 2]
        if not bad:
            return v, blocker
        blocker = f"layer '{bad[-1][0]}' (output size {_at(None, bad[-1][1], symbol, v)} at {v})"
    return None, blocker


def _at(fn, e, symbol, v) -> int:
    """An integer size at ``symbol = v`` (exact: the engine's own substitution when no plain function)."""
    if fn is not None:
        try:
            out = fn(v)
            if isinstance(out, int):
                return out
        except Exception:  # noqa: BLE001 - fall back to the exact substitution
            pass
    return int(e.subs(symbol, v))


def export_dims(model, input_shape=None, *, between=(2, 4096), exact=None,
                arg_name: str | None = None) -> ExportDims:
    """The ``dynamic_shapes`` for ``torch.export.export`` of ``model`` with dynamic spatial sizes.

    Args:
        model: a symcnn network (``symcnn.models.X()``, ``from_torch``, ``from_onnx``).
        input_shape: ``(C, *spatial)``; symbols mark the dynamic axes (default: every spatial axis, named
            H, W (T, H, W / L)).
        between: ``(low, high)`` bounds of every dynamic size (torch.export needs a finite maximum).
        exact: ``True``: only sizes where every floor division is exact (a derived dim); ``False``: every size
            the network runs on; ``None`` (default): exact only when the network crops one branch to another.
        arg_name: name the model's forward argument (``{arg_name: {...}}`` instead of a tuple).

    Returns:
        :class:`ExportDims`; ``.dynamic_shapes`` is what ``torch.export.export`` takes, ``.explain()`` says why.
    """
    from .._analysis import _as_shape

    if exact not in (None, True, False):
        raise SymcnnError(f"export_dims: `exact`={exact!r} must be None, True or False")
    if (not isinstance(between, (tuple, list)) or len(between) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in between)):
        raise SymcnnError(f"export_dims: `between`={between!r} must be a pair of ints (low, high)")
    lo, hi = max(int(between[0]), 2), int(between[1])
    if hi < lo:
        raise SymcnnError(f"export_dims: `between`=({between[0]}, {hi}) leaves no size >= 2")
    if input_shape is None:
        input_shape = getattr(model, "input_shape", None)
    if input_shape is None:
        raise SymcnnError("export_dims: give input_shape=(C, H, W) (the channels, and symbols for the axes that "
                          "are dynamic)")
    shape = _as_shape(input_shape)
    n = len(shape) - 1
    free = [(i, s) for i, s in enumerate(shape[1:]) if isinstance(s, sympy.Symbol)]
    if not free:
        raise SymcnnError(f"export_dims: `input_shape`={tuple(shape)} has no symbolic spatial size to make dynamic")
    analysis = analyze(model, shape)
    crops = _crops(analysis)
    use_exact = bool(crops) if exact is None else exact
    axes = []
    for i, sym in free:
        others = {s: (hi if j != i else s) for j, s in enumerate(shape[1:]) if isinstance(s, sympy.Symbol) and j != i}
        axis_shape = tuple(shape[:1]) + tuple(
            sym if j == i else (size_symbol(f"{_NAMES.get(n, ('X',) * n)[j]}_") if isinstance(s, sympy.Symbol)
                                else s) for j, s in enumerate(shape[1:]))
        sizes = valid_input_sizes(model, between=(lo, hi), axis=i, exact=use_exact, input_shape=axis_shape)
        if not sizes.sizes:
            raise SymcnnError(f"export_dims: no {'exact' if use_exact else 'valid'} size of {sym} in [{lo}, {hi}] "
                              f"({sizes.describe()})")
        reasons = []
        progs = [p for p in sizes.progressions if p.stop is None or p.stop >= lo] if sizes.periodic else []
        if sizes.periodic and len(progs) == 1:
            step, start = progs[0].step, progs[0].start
        else:
            listed = sizes.sizes
            steps = {b - a for a, b in zip(listed, listed[1:], strict=False)}
            if len(steps) > 1:
                raise SymcnnError(f"export_dims: the {'exact' if use_exact else 'valid'} sizes of {sym} are not one "
                                  f"progression ({sizes.describe()}); torch.export takes a range or a*k + b")
            step, start = (steps.pop() if steps else 1), listed[0]
        candidates = [v for v in sizes.sizes if (v - start) % step == 0]
        first, blocker = _first_reaching_one(analysis, sym, others, candidates)
        if first is None:
            raise SymcnnError(f"export_dims: every size of {sym} in [{lo}, {hi}] makes some output size 1, which "
                              "torch.export specialises")
        if sizes.sizes[0] > lo:
            reasons.append(f"{sym} >= {sizes.sizes[0]}: the smallest size on which the network runs"
                           + (" with every floor division exact" if use_exact else "")
                           + _why_not(analysis, sym, sizes.sizes[0]))
        if first > sizes.sizes[0]:
            reasons.append(f"{sym} >= {first}: below it {blocker} is 1; torch.export specialises sizes 0 and 1 "
                           "(a size-1 axis broadcasts), so a range reaching them fails to export")
        if step > 1:
            why = f"the layers {', '.join(crops[:3])} crop one branch to another" if crops else "asked (exact=True)"
            reasons.append(f"{sym} = {step}k + {first % step}: the sizes where every floor division is exact ({why}); "
                           "each size is then linear in k, which torch.export can check")
        last = max(v for v in candidates if v <= hi)
        reasons.append(f"{sym} <= {last}: the upper bound asked (`between`)")
        offset = first % step if step > 1 else 0
        axes.append(AxisDim(sym, i + 2, step, offset, (first - offset) // step, (last - offset) // step,
                            tuple(reasons)))
    return ExportDims(tuple(axes), arg_name)


def _why_not(analysis, sym, smallest) -> str:
    """What refuses the size just below the smallest valid one, in the analysis' own words."""
    if smallest <= 1:
        return ""
    try:
        analysis.subs({sym: smallest - 1})
    except SymcnnError as e:
        return f" (at {smallest - 1}: {e})"
    return ""


def spatial_sizes(program, x) -> set[tuple[int, ...]]:
    """The spatial sizes of every tensor of ``x``'s rank that ``program`` (an ``ExportedProgram`` or its
    ``.module()``) computes at the input ``x``: each node of the graph, run by ``torch.fx.Interpreter``."""
    torch = _torch()
    gm = program.module() if hasattr(program, "graph_signature") else program
    seen: set[tuple[int, ...]] = set()

    class _Recorder(torch.fx.Interpreter):
        def run_node(self, n):
            out = super().run_node(n)
            if n.op in ("placeholder", "get_attr"):  # the input itself, or weights
                return out
            for t in torch.utils._pytree.tree_leaves(out):
                if isinstance(t, torch.Tensor) and t.dim() == x.dim():
                    seen.add(tuple(int(v) for v in t.shape[2:]))
            return out

    _Recorder(gm).run(x)
    return seen


def _predicted_sizes(analysis, rank) -> set[tuple[int, ...]]:
    shapes = [analysis.input_shape] + [r.output_shape for r in analysis.layers]
    return {tuple(int(v) for v in s[1:]) for s in shapes if len(s) == rank - 1}


def check_export(program, dims: ExportDims, model, input_shape, *, rng=None, randoms: int = 3,
                 device="cpu") -> dict:
    """Check an exported program against what :func:`export_dims` promised; raise :class:`SymcnnError` if not.

    * each dynamic axis keeps the emitted range in ``program.range_constraints`` (torch did not narrow it);
    * the program runs at the minimum, the maximum and ``randoms`` random valid sizes of every axis (the other
      axes at their minimum), and every spatial size it computes (each tensor of the input's rank) is one symcnn
      predicts at that input, the output's among them;
    * a size just outside the range (maximum + step) is refused by the program's input guards.

    Returns ``{"sizes": input sizes run, "compared": tensor sizes compared}``.
    """
    import random

    torch = _torch()
    rng = rng or random.Random(0)
    _check_ranges(program, dims)
    run = program.module()
    analysis = analyze(model, input_shape)
    base = dims.example(input_shape, device=device)
    points = []
    for a in dims.axes:
        ks = [a.k_min, a.k_max] + [rng.randint(a.k_min, a.k_max) for _ in range(randoms)]
        points.extend({a: a.step * k + a.offset} for k in ks)
    compared = 0
    for point in points:
        sizes = list(base.shape)
        for a in dims.axes:
            sizes[a.axis] = point.get(a, a.min)
        x = torch.zeros(sizes, device=device)
        subs = {input_shape[a.axis - 1]: sizes[a.axis] for a in dims.axes}
        got_out = run(x)
        got = spatial_sizes(run, x)
        want = _predicted_sizes(analysis.subs(subs), x.dim())
        where = ", ".join(f"{k}={v}" for k, v in subs.items())
        out = got_out if isinstance(got_out, torch.Tensor) else torch.utils._pytree.tree_leaves(got_out)[0]
        expected = tuple(int(v) for v in analysis.subs(subs).output_shape)
        if tuple(out.shape[1:]) != expected:
            raise SymcnnError(f"export_dims check: at {where} the exported program returns {tuple(out.shape[1:])}, "
                              f"symcnn predicts {expected}")
        if not got <= want:
            raise SymcnnError(f"export_dims check: at {where} the exported program computes spatial sizes "
                              f"{sorted(got - want)} that symcnn does not predict")
        compared += len(got)
    a = dims.axes[0]
    sizes = list(base.shape)
    sizes[a.axis] = a.max + a.step
    try:
        run(torch.zeros(sizes, device=device))
    except Exception:  # noqa: BLE001 - the refusal is what is checked
        pass
    else:
        raise SymcnnError(f"export_dims check: the exported program accepts {a.symbol}={a.max + a.step}, above the "
                          f"emitted maximum {a.max}")
    return {"sizes": len(points), "compared": compared}


def _check_ranges(program, dims: ExportDims) -> None:
    """Each dynamic axis' size in the exported program spans exactly the emitted range."""
    placeholder = next(n for n in program.graph.nodes if n.op == "placeholder"
                       and n.name in program.graph_signature.user_inputs)
    shape = placeholder.meta["val"].shape
    for a in dims.axes:
        expr = shape[a.axis].node.expr if hasattr(shape[a.axis], "node") else sympy.Integer(int(shape[a.axis]))
        (sym,) = expr.free_symbols or (None,)
        if sym is None:
            raise SymcnnError(f"export_dims check: torch specialised {a.symbol} to {expr}")
        vr = program.range_constraints[sym]
        low, high = int(expr.subs(sym, int(vr.lower))), int(expr.subs(sym, int(vr.upper)))
        if (low, high) != (a.min, a.max):
            raise SymcnnError(f"export_dims check: torch exported {a.symbol} in [{low}, {high}], not the emitted "
                              f"[{a.min}, {a.max}]")
