"""``torch.export`` dynamic shapes from the solver: the ``Dim`` of each free input size, right the first time.

    d = sc.export_dims(sc.models.resnet50(), (3, sc.H, sc.W))
    print(d.explain())          # H: 33 <= H <= 4096, and why (the layer whose size would be 1 below 33)
    ep = torch.export.export(model, (d.example((3, sc.H, sc.W)),), dynamic_shapes=d.dynamic_shapes)
    check_export(ep, d, net, (3, sc.H, sc.W))   # every size of the range passes, shapes as predicted

Three things make an export with a naive ``Dim("h", min=..., max=...)`` fail that symcnn knows in advance:

* **Sizes of 0 and 1 are specialised.** torch.export guards every size that could be 1 (a size-1 axis
  broadcasts), so a range in which some layer's output size along that axis reaches 1 is refused ("Not all
  values of h ... satisfy the generated guard ... != 1"). The emitted minimum is the smallest valid size from
  which on every size computed from it is at least 2 (ResNet-50: ceil(H/32) >= 2, so H >= 33).
* **True guards it cannot prove.** A ceil_mode pooling makes PyTorch check that the last window starts inside
  the input (``(out - 1)*stride < in + pad``, ``pooling_output_shape``); ConvNeXt's permuted layer norm makes it
  check ``1 % (C*(W//4)) != 0``. Both hold at every size, but torch's solver cannot prove them over a range
  and refuses a named ``Dim`` ("Constraints violated"). A range is therefore emitted as
  ``Dim.DYNAMIC(min=..., max=...)``: torch keeps such guards as checks in the program, the range stays the
  one emitted, and :func:`check_export` runs the checks at every size of it (``named=True`` asks for named
  Dims where symcnn knows torch proves them). Where PyTorch really drops the last window at some sizes only
  (``MaxPool2d(2, 2, padding=1, ceil_mode=True)`` at odd sizes) no range exports: the axis is a progression.
* **Size arithmetic it cannot prove.** Layers that crop one branch to another (U-Net's skip connections)
  make torch guard on floors of differences of floors. Where the network's exact sizes form one progression
  (every floor division exact: U-Net W = 16k + 124), a derived dim ``16*k + 124`` makes each size linear in
  ``k`` and the export goes through; the exported program then accepts only sizes of that form (``k >= 2``:
  torch specialises the root dim at 0 and 1 as any size).

Each constraint is explained in words with the layer that needs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy

from .._analysis import analyze
from .._errors import SymcnnError
from ..layers import CropConcat
from ..layers.pool import _PoolNd
from ..solve.sizes import _MAX_SIZES, sizes_of_analysis

__all__ = ["export_dims", "ExportDims", "AxisDim", "check_export", "spatial_sizes"]



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
    dynamic: bool = False  # emitted as Dim.DYNAMIC(min, max), else a named Dim (see export_dims)

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
        sign = "" if not self.offset else (" + " if self.offset > 0 else " - ") + str(abs(self.offset))
        return (f"{name} = {self.step}k{sign}, {self.k_min} <= k <= {self.k_max} "
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
            if a.dynamic:
                spec[a.axis] = Dim.DYNAMIC(min=a.min, max=a.max)
            elif a.step == 1:
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


def _ceil_pools(analysis, ax: int) -> list[tuple[str, int, bool]]:
    """``(name, stride, live)`` of the ceil_mode poolings with a stride above 1 along spatial axis ``ax``.

    PyTorch's ``pooling_output_shape`` (``torch/_meta_registrations.py``, aten ``Pool.h``) drops the last
    window when it would start in the right padding: ``(out - 1)*S >= in + P_l``. Since ``(out - 1)*S <=
    in + P_l + P_r - F_eff + S - 1``, that never happens when ``P_r + S - 1 <= F_eff - 1`` (every usual pool:
    2/2, 3/2, 3/2 pad 1); it is ``live`` otherwise (2/2 pad 1, 1/2), and then depends on ``in`` mod ``S``."""
    out = []
    for r in analysis.layers:
        layer = r.layer
        if not (isinstance(layer, _PoolNd) and layer.ceil_mode and len(layer.stride) > ax):
            continue
        s, k, d, (_, pr) = layer.stride[ax], layer.kernel_size[ax], layer.dilation[ax], layer.padding[ax]
        if s != 1:
            out.append((r.name, s, bool(sympy.sympify(pr + s - 1 > d * (k - 1)) is not sympy.false)))
    return out


def _size_formulas(analysis, symbol, other_subs) -> dict:
    """Each distinct output size formula in ``symbol`` (other axes at ``other_subs``) with the last layer
    that has it."""
    unique: dict[sympy.Expr, str] = {}
    for r in analysis.layers:
        for e in r.output_shape[1:]:
            e = sympy.sympify(e)
            free = e.free_symbols
            if symbol in free:
                unique[e.xreplace(other_subs) if len(free) > 1 and other_subs else e] = r.name
    return unique


def _first_from_which_no_one(analysis, symbol, other_subs, sizes) -> tuple[int | None, str | None]:
    """The smallest size in ``sizes`` from which on every output size computed from ``symbol`` is >= 2 at
    every size of the list, and the layer that forced it (the last one whose size is below 2 just before).

    Every formula is evaluated exactly at every size at once (:func:`symcnn._evaluate.make_function`), so
    the result does not rest on the sizes growing with the input."""
    import numpy as np

    from .._evaluate import make_function

    unique = _size_formulas(analysis, symbol, other_subs)
    if not unique or not sizes:
        return (sizes[0] if sizes else None), None
    exprs, names = list(unique), list(unique.values())
    values = make_function(tuple(exprs), [symbol], vectorized=True)(np.asarray(sizes, dtype=np.int64))
    bad = np.zeros(len(sizes), dtype=bool)
    for v in values:
        bad |= np.asarray(v) < 2
    if not bad.any():
        return sizes[0], None
    last = int(np.flatnonzero(bad)[-1])
    if last == len(sizes) - 1:
        return None, None
    culprit = max(i for i, v in enumerate(values) if np.asarray(v)[last] < 2)
    blocker = f"layer '{names[culprit]}' (output size {int(np.asarray(values[culprit])[last])} at {sizes[last]})"
    return sizes[last + 1], blocker


def export_dims(model, input_shape=None, *, between=(2, 4096), exact=None, named: bool = False,
                arg_name: str | None = None) -> ExportDims:
    """The ``dynamic_shapes`` for ``torch.export.export`` of ``model`` with dynamic spatial sizes.

    Args:
        model: a symcnn network (``symcnn.models.X()``, ``from_torch``, ``from_onnx``).
        input_shape: ``(C, *spatial)``; symbols mark the dynamic axes (default: every spatial axis, named
            H, W (T, H, W / L)).
        between: ``(low, high)`` bounds of every dynamic size (torch.export needs a finite maximum).
        exact: ``True``: only sizes where every floor division is exact (a derived dim); ``False``: every size
            the network runs on; ``None`` (default): exact only when the network crops one branch to another.
        named: ``False`` (default): a range is ``Dim.DYNAMIC(min=..., max=...)``, for which torch.export keeps
            the size guards it cannot prove as checks in the program (they hold at every size of the range:
            :func:`check_export` runs them); ``True``: a named ``Dim(name, min, max)``, which torch.export
            proves over the range or refuses (it refuses for ceil_mode poolings, which stay ``Dim.DYNAMIC``, and
            for some guards symcnn cannot foresee, e.g. torchvision's ConvNeXt).
        arg_name: name the model's forward argument (``{arg_name: {...}}`` instead of a tuple).

    Returns:
        :class:`ExportDims`; ``.dynamic_shapes`` is what ``torch.export.export`` takes, ``.explain()`` says why.
    """
    from .._analysis import _as_shape

    if exact not in (None, True, False):
        raise SymcnnError(f"export_dims: `exact`={exact!r} must be None, True or False")
    if not isinstance(named, bool):
        raise SymcnnError(f"export_dims: `named`={named!r} must be True or False")
    if (not isinstance(between, (tuple, list)) or len(between) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in between)):
        raise SymcnnError(f"export_dims: `between`={between!r} must be a pair of ints (low, high)")
    lo, hi = max(int(between[0]), 2), int(between[1])
    if hi < lo:
        raise SymcnnError(f"export_dims: `between`=({between[0]}, {hi}) leaves no size >= 2")
    if hi - lo + 1 > _MAX_SIZES:
        raise SymcnnError(f"export_dims: `between`=({lo}, {hi}) spans {hi - lo + 1:,} sizes; at most "
                          f"{_MAX_SIZES:,} are checked")
    if input_shape is None:
        input_shape = getattr(model, "input_shape", None)
    if input_shape is None:
        raise SymcnnError("export_dims: give input_shape=(C, H, W) (the channels, and symbols for the axes that "
                          "are dynamic)")
    shape = _as_shape(input_shape)
    free = [(i, s) for i, s in enumerate(shape[1:]) if isinstance(s, sympy.Symbol)]
    if not free:
        raise SymcnnError(f"export_dims: `input_shape`={tuple(shape)} has no symbolic spatial size to make dynamic")
    if len({s for _, s in free}) != len(free):
        raise SymcnnError(f"export_dims: `input_shape`={tuple(shape)} uses one symbol for two axes; give each "
                          "dynamic axis its own symbol")
    analysis = analyze(model, shape)
    crops = _crops(analysis)
    use_exact = bool(crops) if exact is None else exact
    axes = tuple(_axis_dim(analysis, i, sym, free, (lo, hi), use_exact, crops, named) for i, sym in free)
    return ExportDims(axes, arg_name)


def _axis_dim(analysis, i, sym, free, between, use_exact, crops, named) -> AxisDim:  # noqa: PLR0913
    """The :class:`AxisDim` of spatial axis ``i`` (symbol ``sym``), with the reasons in words."""
    lo, hi = between
    pools = _ceil_pools(analysis, i)
    live = [name for name, _, is_live in pools if is_live]
    forced = bool(live) and not use_exact
    use_exact = use_exact or bool(live)
    kind = "exact" if use_exact else "valid"
    others = {s: hi for j, s in free if j != i}
    sizes = sizes_of_analysis(analysis, i, (lo, hi), use_exact, "export_dims")
    if not sizes.sizes:
        raise SymcnnError(f"export_dims: no {kind} size of {sym} in [{lo}, {hi}] ({sizes.describe()})")
    step, start, chosen = _one_progression(sizes, sym, kind, lo, hi)
    candidates = [v for v in sizes.sizes if (v - start) % step == 0 and v >= start]
    first, blocker = _first_from_which_no_one(analysis, sym, others, candidates)
    if first is None:
        raise SymcnnError(f"export_dims: every size of {sym} in [{lo}, {hi}] makes some output size 1, which "
                          "torch.export specialises")
    reasons = []
    if sizes.sizes[0] > lo:
        reasons.append(f"{sym} >= {sizes.sizes[0]}: the smallest size on which the network runs"
                       + (" with every floor division exact" if use_exact else "")
                       + _why_not(analysis, sym, sizes.sizes[0]))
    if first > sizes.sizes[0]:
        reasons.append(f"{sym} >= {first}: below it {blocker} is 1; torch.export specialises sizes 0 and 1 "
                       "(a size-1 axis broadcasts), so a range reaching them fails to export")
    if chosen:
        reasons.append(chosen)
    elif step > 1:
        why = (f"the layers {', '.join(crops[:3])} crop one branch to another" if crops else
               f"layer '{live[0]}' pools with ceil_mode where PyTorch drops the last window at some sizes only "
               "((out - 1)*stride >= in + pad), which torch.export cannot keep symbolic over a range"
               if forced else "asked (exact=True)")
        reasons.append(f"{sym} = {step}k + {first % step}: the sizes where every floor division is exact ({why}); "
                       "each size is then linear in k, which torch.export can check")
    last = max(v for v in candidates if v <= hi)
    reasons.append(f"{sym} <= {last}: the upper bound asked (`between`)")
    dynamic = step == 1 and (not named or bool(pools))
    if dynamic:
        reasons.append(_dynamic_reason(first, last, pools, named))
    offset = first % step if step > 1 else 0
    k_min = (first - offset) // step
    if step > 1 and k_min < 2:  # the root dim k is a size to torch.export too: 0 and 1 are specialised
        offset -= (2 - k_min) * step
        k_min = 2
        reasons.append(f"k >= 2 ({sym} = {step}k - {-offset}): torch.export specialises the root dim k at 0 and 1 "
                       "as it does any size")
    return AxisDim(sym, i + 2, step, offset, k_min, (last - offset) // step, tuple(reasons), dynamic=dynamic)


def _one_progression(sizes, sym, kind: str, lo: int, hi: int) -> tuple[int, int, str]:
    """``(step, start, why)`` of the sizes to emit: the one progression the valid sizes form, or where they
    form several (DLA's and HRNet's branches agree at W = 32k and W = 32k + 31) the one with the most sizes in
    ``[lo, hi]``, ``why`` saying which are left out (torch.export takes one ``Dim`` per axis)."""
    progs = [p for p in sizes.progressions if p.stop is None or p.stop >= lo] if sizes.periodic else []
    if sizes.periodic and len(progs) == 1:
        return progs[0].step, progs[0].start, ""
    if len(progs) > 1:
        count = {p: len(p.values(lo, hi)) for p in progs}
        best = max(progs, key=lambda p: (count[p], p.start % p.step == 0, -p.start))  # ties: multiples of the step
        others = [p for p in progs if p is not best]
        why = (f"{sym} = {best.step}k + {best.start % best.step}: the {kind} sizes are {sizes.describe()}, which no "
               "range or single a*k + b covers (torch.export takes one Dim per axis); emitted: the progression "
               f"with the most sizes in [{lo}, {hi}] ({count[best]}); left out: "
               + ", ".join(f"{p.step}k + {p.start % p.step} ({count[p]} sizes)" for p in others))
        return best.step, best.start, why
    listed = sizes.sizes
    steps = {b - a for a, b in zip(listed, listed[1:], strict=False)}
    if len(steps) > 1:
        raise SymcnnError(f"export_dims: the {kind} sizes of {sym} are not one progression "
                          f"({sizes.describe()}); torch.export takes a range or a*k + b")
    return (steps.pop() if steps else 1), listed[0], ""


def _dynamic_reason(first: int, last: int, pools, named: bool) -> str:
    text = f"Dim.DYNAMIC(min={first}, max={last})"
    if pools:
        name, stride, _ = pools[0]
        more = f" (and {len(pools) - 1} more)" if len(pools) > 1 else ""
        text += (f"{', not a named Dim' if named else ''}: layer '{name}'{more} pools with ceil_mode and stride "
                 f"{stride}, for which PyTorch's pooling_output_shape checks that the last window starts inside the "
                 "input ((out - 1)*stride < in + pad); that holds at every size here, but torch.export cannot prove "
                 "it over a range and refuses a named Dim ('Constraints violated')")
    else:
        text += (": torch.export keeps the guards it cannot prove over a range (ConvNeXt's permuted layer norm "
                 "gives 1 % (C*(W//4)) != 0) as checks in the exported program instead of refusing the range "
                 "(named=True: a named Dim, which torch proves or refuses)")
    return text + "; the exported range is the one emitted and every size of it passes the checks (check_export)"


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
    """The shapes (batch left out) of every tensor of ``x``'s rank that ``program`` (an ``ExportedProgram``
    or its ``.module()``) computes at the input ``x``: each node of the graph, run by ``torch.fx.Interpreter``."""
    return _interpret(program, x)[1]


def _interpret(program, x):
    """``(output, shapes)``: the program run node by node (its guard node included) at ``x``."""
    torch = _torch()
    gm = program.module() if hasattr(program, "graph_signature") else program
    seen: set[tuple[int, ...]] = set()

    live: set = set()  # the nodes computed from the input (not weights, nor tensors made from weights only)

    class _Recorder(torch.fx.Interpreter):
        def run_node(self, n):
            out = super().run_node(n)
            if n.op == "placeholder":
                live.add(n)
                return out
            if not any(i in live for i in n.all_input_nodes):
                return out
            live.add(n)
            for t in torch.utils._pytree.tree_leaves(out):
                if isinstance(t, torch.Tensor) and t.dim() == x.dim():
                    seen.add(tuple(int(v) for v in t.shape[1:]))
            return out

    return _Recorder(gm).run(x), seen


def _predicted_sizes(analysis, rank) -> set[tuple[int, ...]]:
    shapes = [analysis.input_shape] + [r.output_shape for r in analysis.layers]
    return {tuple(int(v) for v in s) for s in shapes if len(s) == rank - 1}


def check_export(program, dims: ExportDims, model, input_shape, *, rng=None, randoms: int = 3,
                 device="cpu", every_size: bool = True) -> dict:
    """Check an exported program against what :func:`export_dims` promised; raise :class:`SymcnnError` if not.

    * each dynamic axis keeps the emitted range in ``program.range_constraints`` (torch did not narrow it);
    * ``every_size``: the program's input guards (the checks torch kept, ``_guards_fn``) pass at every size of
      every axis (the other axes at the example's sizes; at most 20,000 sizes per axis, evenly spread, ends
      included);
    * the program runs at the minimum, the maximum and ``randoms`` random sizes of every axis (the other axes
      at their minimum), and every spatial size it computes (each tensor of the input's rank) is one symcnn
      predicts at that input, the output's among them;
    * a size just above the range (maximum + step) of each axis is refused.

    Returns ``{"sizes": inputs run, "compared": tensor sizes compared, "guarded": sizes whose guards ran}``.
    """
    import random

    torch = _torch()
    rng = rng or random.Random(0)
    _check_ranges(program, dims)
    run = program.module()
    analysis = analyze(model, input_shape)
    base = list(dims.example(input_shape, device="meta").shape)
    guarded = _check_guards(run, dims, base) if every_size else 0
    compared, runs = 0, 0
    for a in dims.axes:
        for k in [a.k_min, a.k_max] + [rng.randint(a.k_min, a.k_max) for _ in range(randoms)]:
            sizes = [*base]
            for b in dims.axes:
                sizes[b.axis] = b.min
            sizes[a.axis] = a.step * k + a.offset
            compared += _check_run(run, analysis, dims, input_shape, torch.zeros(sizes, device=device))
            runs += 1
    for a in dims.axes:
        sizes = [*base]
        sizes[a.axis] = a.max + a.step
        try:
            run(torch.zeros(sizes, device=device))
        except Exception:  # noqa: BLE001 - the refusal is what is checked
            continue
        raise SymcnnError(f"export_dims check: the exported program accepts {a.symbol}={a.max + a.step}, above the "
                          f"emitted maximum {a.max}")
    return {"sizes": runs, "compared": compared, "guarded": guarded}


def _check_guards(run, dims: ExportDims, base: list[int], limit: int = 20_000) -> int:
    """Run the program's input guards at every size of every axis (at most ``limit`` per axis)."""
    torch = _torch()
    guards = getattr(run, "_guards_fn", None)
    if guards is None:
        return 0
    count = 0
    for a in dims.axes:
        n = a.k_max - a.k_min + 1
        ks = range(a.k_min, a.k_max + 1) if n <= limit else sorted(
            {a.k_min + (n - 1) * j // (limit - 1) for j in range(limit)})
        for k in ks:
            sizes = [*base]
            sizes[a.axis] = a.step * k + a.offset
            try:
                guards(torch.empty(sizes, device="meta"))
            except Exception as e:  # noqa: BLE001 - what torch says is the finding
                raise SymcnnError(f"export_dims check: {a.symbol}={sizes[a.axis]} is in the emitted range, but the "
                                  f"exported program refuses it: {str(e).splitlines()[0]}") from None
            count += 1
    return count


def _check_run(run, analysis, dims: ExportDims, input_shape, x) -> int:
    """Run the program at ``x``: its output and every spatial size it computes are the predicted ones."""
    torch = _torch()
    subs = {input_shape[a.axis - 1]: int(x.shape[a.axis]) for a in dims.axes}
    where = ", ".join(f"{k}={v}" for k, v in subs.items())
    try:
        got_out, got = _interpret(run, x)
    except Exception as e:  # noqa: BLE001
        raise SymcnnError(f"export_dims check: the exported program refuses {where}: "
                          f"{str(e).splitlines()[0]}") from None
    at = analysis.subs(subs)
    out = got_out if isinstance(got_out, torch.Tensor) else torch.utils._pytree.tree_leaves(got_out)[0]
    expected = tuple(int(v) for v in at.output_shape)
    if tuple(out.shape[1:]) != expected:
        raise SymcnnError(f"export_dims check: at {where} the exported program returns {tuple(out.shape[1:])}, "
                          f"symcnn predicts {expected}")
    want = _predicted_sizes(at, x.dim())
    # a layer read as one module may work on intermediate tensors: permuted (channels last), cropped one axis
    # at a time, or regrouped (split attention's (radix, C) view): each is a layout of a predicted tensor, has
    # sizes symcnn predicts on each axis, or as many elements as a predicted tensor
    layouts = {tuple(sorted(w)) for w in want}
    per_axis = [{w[j] for w in want} for j in range(x.dim() - 1)]
    elements = {math.prod(w) for w in want}
    unknown = sorted(g for g in got if g not in want and tuple(sorted(g)) not in layouts
                     and not all(v in per_axis[j] for j, v in enumerate(g)) and math.prod(g) not in elements)
    if unknown:
        raise SymcnnError(f"export_dims check: at {where} the exported program computes tensors of shape "
                          f"{unknown} (batch left out) that symcnn does not predict")
    return len(got)


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
