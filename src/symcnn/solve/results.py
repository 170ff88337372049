"""Result types of the solvers and their text / Markdown / LaTeX / HTML forms."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping

import numpy as np
import sympy

from .._errors import SymcnnError
from .._graph import Sequential
from .._intmath import latex, pretty
from ..layers._base import fmt
from ..layers.transposed import _ConvTransposeNd


@dataclasses.dataclass(frozen=True)
class _Constraint:
    relation: sympy.Basic
    label: str  # where it comes from and what it means


class Solutions:
    """The result of :func:`solve`: closed form, explicit solutions in bounds, and why there are none.

    Iterating yields one ``{symbol: int}`` dict per solution, in the order kernel, stride, dilation, padding,
    output_padding (smallest first). ``closed_form`` is a SymPy relation (or ``And``) over the unknowns;
    ``bounds`` the search ranges used (``default_bounds`` names those not given by the caller).
    """

    def __init__(
        self,
        unknowns,
        closed_form,
        solutions,
        bounds,
        default_bounds,
        exact_set,
        reason,
        nearest,
        constraints,
        target,
        params,
    ):
        self.unknowns: tuple[sympy.Symbol, ...] = unknowns
        self.closed_form = closed_form
        self.solutions = solutions  # a sequence of {symbol: int} (solve._search.Rows: dicts made on access)
        self.bounds: dict = bounds
        self.default_bounds: tuple[sympy.Symbol, ...] = default_bounds
        self.exact_set = exact_set  # True: the list is the whole solution set (bounds irrelevant)
        self.reason: str | None = reason
        self.nearest: list = nearest
        self.constraints: tuple[_Constraint, ...] = constraints
        self.target = target
        self.parameters = params

    def __iter__(self):
        return (dict(s) for s in self.solutions)

    def __len__(self) -> int:
        return len(self.solutions)

    def __bool__(self) -> bool:
        return bool(self.solutions)

    def __getitem__(self, i):
        return self.solutions[i]

    def _rows(self, n: int) -> list[str]:
        return [", ".join(f"{k}={v}" for k, v in s.items()) for s in self.solutions[:n]]

    def _bounds_text(self) -> str:
        if self.parameters:
            return f"closed form only (symbolic parameters {', '.join(map(str, self.parameters))})"
        if self.exact_set:
            return "all solutions (no bounds needed)"
        parts = [
            f"{lo} <= {s} <= {hi}" + (" (default)" if s in self.default_bounds else "")
            for s, (lo, hi) in self.bounds.items()
        ]
        return "within " + ", ".join(parts)

    def __repr__(self) -> str:
        names = ", ".join(str(u) for u in self.unknowns)
        lines = [
            f"Solutions for ({names}) -> output {fmt(self.target)}: {len(self)} found, {self._bounds_text()}",
            f"  closed form: {_show(self.closed_form)}",
        ]
        shown = self._rows(20)
        lines += [f"  {r}" for r in shown]
        if len(self) > len(shown):
            lines.append(f"  ... {len(self) - len(shown)} more")
        if self.reason:
            lines.append(f"  no solution: {self.reason}")
        if self.nearest:
            lines.append(
                "  nearest feasible outputs: "
                + "; ".join(
                    f"{fmt(o)} with {', '.join(f'{k}={v}' for k, v in s.items())}" for o, s in self.nearest
                )
            )
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        names = [str(u) for u in self.unknowns]
        out = [
            f"**{len(self)} solution(s)** for output `{fmt(self.target)}`, {self._bounds_text()}  ",
            f"closed form: `{_show(self.closed_form)}`",
            "",
        ]
        if self.solutions:
            out += ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
            out += ["| " + " | ".join(str(s[u]) for u in self.unknowns) + " |" for s in self.solutions[:200]]
        if self.reason:
            out.append(f"\nno solution: {self.reason}")
        if self.nearest:
            out.append("\nnearest feasible outputs: " + "; ".join(f"`{fmt(o)}`" for o, _ in self.nearest))
        return "\n".join(out)

    def _repr_latex_(self) -> str:
        """Jupyter: the closed form as display math."""
        return _latex_display(self.closed_form)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(str(u))}</th>" for u in self.unknowns)
        body = "".join(
            "<tr>" + "".join(f"<td>{s[u]}</td>" for u in self.unknowns) + "</tr>"
            for s in self.solutions[:200]
        )
        extra = f"<p>no solution: {esc(self.reason)}</p>" if self.reason else ""
        if self.nearest:
            extra += (
                "<p>nearest feasible outputs: " + esc("; ".join(fmt(o) for o, _ in self.nearest)) + "</p>"
            )
        return (
            f"<p><b>{len(self)} solution(s)</b> for output <code>{esc(fmt(self.target))}</code>, "
            f"{esc(self._bounds_text())}<br>closed form: <code>{esc(_show(self.closed_form))}</code></p>"
            f"<table><tr>{head}</tr>{body}</table>{extra}"
        )


def _show(expr) -> str:
    if expr is sympy.true or expr is True:
        return "True (any value)"
    if expr is sympy.false or expr is False:
        return "False (no value)"
    if isinstance(expr, sympy.And):
        return " & ".join(_show(a) for a in expr.args)
    if isinstance(expr, sympy.Or):
        return " | ".join(f"({_show(a)})" for a in expr.args)
    if isinstance(expr, sympy.Rel):
        return f"{pretty(expr.lhs)} {expr.rel_op} {pretty(expr.rhs)}".replace("==", "=")
    return pretty(expr)


def _latex_display(expr) -> str:
    """``$$...$$`` of a closed form (relation, ``And``/``Or`` of relations, or a boolean)."""
    if expr is sympy.true or expr is True:
        return "$$\\text{any value}$$"
    if expr is sympy.false or expr is False:
        return "$$\\text{no value}$$"
    return f"$${latex(expr)}$$"


@dataclasses.dataclass(frozen=True)
class Progression:
    """The sizes ``start, start + step, ...`` up to ``stop`` (inclusive; None: unbounded)."""

    start: int
    step: int
    stop: int | None = None

    def __contains__(self, x: int) -> bool:
        return x >= self.start and (self.stop is None or x <= self.stop) and (x - self.start) % self.step == 0

    def describe(self, name: str) -> str:
        if self.stop is not None and self.stop == self.start:
            return f"{name} = {self.start}"
        upper = "" if self.stop is None else f", {name} <= {self.stop}"
        if self.step == 1:
            return f"{name} >= {self.start}{upper}"
        return f"{name} ≡ {self.start % self.step} (mod {self.step}), {name} >= {self.start}{upper}"

    def as_sympy(self, x: sympy.Symbol):
        parts = [sympy.Ge(x, self.start)]
        if self.step > 1:
            parts.append(sympy.Eq(sympy.Mod(x - self.start, self.step), 0))
        if self.stop is not None:
            parts.append(sympy.Le(x, self.stop))
        return sympy.And(*parts)

    def values(self, lo: int, hi: int) -> np.ndarray:
        top = hi if self.stop is None else min(hi, self.stop)
        first = (
            self.start if lo <= self.start else self.start + -(-(lo - self.start) // self.step) * self.step
        )
        return _int_range(first, top + 1, self.step) if first <= top else np.zeros(0, np.int64)


_MAX_PERIOD = 2_000_000  # residue classes scanned by valid_input_sizes; beyond, sizes are listed in `between`


def _int_range(start: int, stop: int, step: int) -> np.ndarray:
    """``np.arange`` of ints, as Python integers (object array) beyond int64."""
    if max(abs(start), abs(stop)) < 2**62:
        return np.arange(start, stop, step, dtype=np.int64)
    return np.array(range(start, stop, step), dtype=object)


def _ranges(values: list[int]) -> str:
    """``[0, 57, 58, 59, 60]`` -> ``"0, 57..60"``."""
    out, i = [], 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        out.append(str(values[i]) if j == i else f"{values[i]}..{values[j]}")
        i = j + 1
    return ", ".join(out)


class InputSizes:
    """The result of :func:`valid_input_sizes`.

    Iterating yields the valid sizes (ints) of ``symbol`` within ``between``. ``progressions`` describe the
    whole set (beyond ``between``) when ``periodic`` is True; ``closed_form`` is a SymPy condition on
    ``symbol`` (the progressions, or the raw conditions of the analysis when they are not periodic, e.g.
    spatial pyramid pooling, whose divisors depend on the size).
    """

    def __init__(
        self, symbol, sizes, between, progressions, periodic, conditions, exact, period, reason=None
    ):
        self.symbol = symbol
        self.sizes: list[int] = [int(s) for s in sizes]
        self.between = between
        self.progressions: tuple[Progression, ...] = tuple(progressions)
        self.periodic = periodic
        self.conditions = conditions
        self.exact = exact
        self.period = period
        self.reason = reason

    @property
    def closed_form(self):
        if self.periodic:
            parts = [p.as_sympy(self.symbol) for p in self.progressions]
            return sympy.Or(*parts) if parts else sympy.false
        return sympy.And(*self.conditions) if self.conditions else sympy.true

    def __iter__(self):
        return iter(self.sizes)

    def __len__(self) -> int:
        return len(self.sizes)

    def __contains__(self, x) -> bool:
        if self.periodic:
            return any(x in p for p in self.progressions)
        return x in set(self.sizes)

    def describe(self) -> str:
        name = str(self.symbol)
        if self.reason:
            return f"none ({self.reason})"
        if self.periodic:
            if not self.progressions:
                return "none"
            finite = [p for p in self.progressions if p.stop is not None]  # e.g. a few small exceptions
            progs = [p for p in self.progressions if p.stop is None]
            step = progs[0].step if progs else 0
            t = min((p.start for p in progs), default=0)
            if len(progs) > 2 and all(
                p.step == step and p.start == t + (p.start - t) % step for p in progs
            ):  # one threshold, several residues
                res = sorted(p.start % step for p in progs)
                return " or ".join([*(p.describe(name) for p in finite),
                                    f"{name} mod {step} in {{{_ranges(res)}}}, {name} >= {t}"])
            return " or ".join(p.describe(name) for p in self.progressions)
        if self.period:  # periodic, but the period is longer than the residue classes scanned
            return _show(self.closed_form) + (
                f"  (period {self.period:,}, above the {_MAX_PERIOD:,} residue classes scanned: listed within"
                f" {self.between})"
            )
        return _show(self.closed_form) + f"  (size-dependent divisors: listed within {self.between})"

    def _head(self) -> str:
        what = "exact (no pixel lost to rounding)" if self.exact else "valid (the network runs)"
        return f"{what} input sizes {self.symbol}: {self.describe()}"

    def __repr__(self) -> str:
        lo, hi = self.between
        shown = ", ".join(map(str, self.sizes[:12])) + (", ..." if len(self.sizes) > 12 else "")
        return f"InputSizes({self._head()}; {len(self)} in [{lo}, {hi}]: {shown})"

    def _repr_markdown_(self) -> str:
        lo, hi = self.between
        return (
            f"**{html.escape(self._head())}**  \n{len(self)} sizes in [{lo}, {hi}]: "
            + ", ".join(map(str, self.sizes[:50]))
            + (" ..." if len(self.sizes) > 50 else "")
        )

    def _repr_latex_(self) -> str:
        """Jupyter: the closed form (a condition on the size) as display math."""
        return _latex_display(self.closed_form)

    def _repr_html_(self) -> str:
        lo, hi = self.between
        return (
            f"<p><b>{html.escape(self._head())}</b><br>{len(self)} sizes in [{lo}, {hi}]: "
            + ", ".join(map(str, self.sizes[:50]))
            + (" ..." if len(self.sizes) > 50 else "")
            + "</p>"
        )


class OutputPaddings:
    """The result of :func:`mirror_output_padding`: one tuple (per spatial axis) per transposed layer.

    ``output_padding[j]`` is a SymPy expression in the input sizes; :meth:`at` evaluates them,
    :meth:`decoder` builds the decoder with those numbers filled in.
    """

    def __init__(self, layers, values, stages, symbols, conditions, template):
        self.layers = layers  # the transposed layers of the decoder, in order
        self.output_padding: list[tuple[sympy.Expr, ...]] = values
        self.stages = stages  # (encoder record, decoder index) pairs
        self.symbols = symbols
        self.conditions = conditions
        self._template = template

    @property
    def closed_form(self) -> list[tuple[sympy.Expr, ...]]:
        return self.output_padding

    def at(self, mapping: Mapping | None = None, **sizes) -> list[tuple[int, ...]]:
        """Numeric output paddings for given input sizes (by symbol or name)."""
        m = self._mapping(mapping, sizes)
        out = []
        for layer, v in zip(self.layers, self.output_padding, strict=True):
            vals = tuple(sympy.sympify(e).xreplace(m) for e in v)
            for a, e in enumerate(vals):
                if not e.is_Integer:
                    raise SymcnnError(
                        f"mirror_output_padding.at: {pretty(e)} is not a number; give all of "
                        + ", ".join(sorted(s.name for s in self.symbols))
                    )
                top = max(int(layer.stride[a]), int(layer.dilation[a])) - 1
                if not 0 <= e <= top:  # PyTorch: 0 <= output_padding < max(stride, dilation)
                    at = ", ".join(f"{k}={v}" for k, v in m.items())
                    raise SymcnnError(
                        f"mirror_output_padding.at: {layer!r} cannot restore its encoder stage at {at}: it would"
                        f" need `output_padding`={int(e)} on axis {a}, allowed 0..{top}; change its padding or"
                        " kernel"
                    )
            out.append(tuple(int(e) for e in vals))
        return out

    def _mapping(self, mapping, sizes):
        by_name = {s.name: s for s in self.symbols}
        m = {}
        for k, v in [*(mapping or {}).items(), *sizes.items()]:
            key = by_name.get(k) if isinstance(k, str) else k
            if key not in self.symbols:
                raise SymcnnError(
                    f"mirror_output_padding.at: `{k}` is not an input size symbol "
                    f"({', '.join(sorted(by_name))})"
                )
            m[key] = sympy.Integer(v)
        return m

    def decoder(self, mapping: Mapping | None = None, **sizes) -> Sequential:
        """The decoder with numeric ``output_padding`` for these input sizes."""
        values = iter(self.at(mapping, **sizes))
        return Sequential(
            *[
                _with_output_padding(m, next(values)) if isinstance(m, _ConvTransposeNd) else m
                for m in self._template
            ]
        )

    def __repr__(self) -> str:
        lines = ["OutputPaddings("]
        for (rec, _), layer, v in zip(self.stages, self.layers, self.output_padding, strict=True):
            lines.append(
                f"  {layer!r}: output_padding={fmt(v)}  (restores layer {rec.index} '{rec.name}' input "
                f"{fmt(tuple(rec.input_shape)[1:])})"
            )
        return "\n".join(lines) + "\n)"

    def _repr_markdown_(self) -> str:
        rows = ["| decoder layer | output_padding | restores |", "|---|---|---|"]
        for (rec, _), layer, v in zip(self.stages, self.layers, self.output_padding, strict=True):
            rows.append(
                f"| `{layer!r}` | `{fmt(v)}` | `{rec.name}` input `{fmt(tuple(rec.input_shape)[1:])}` |"
            )
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        esc = html.escape
        body = "".join(
            f"<tr><td><code>{esc(repr(layer))}</code></td><td><code>{esc(fmt(v))}</code></td>"
            f"<td>{esc(rec.name)} input <code>{esc(fmt(tuple(rec.input_shape)[1:]))}</code></td></tr>"
            for (rec, _), layer, v in zip(self.stages, self.layers, self.output_padding, strict=True)
        )
        return f"<table><tr><th>decoder layer</th><th>output_padding</th><th>restores</th></tr>{body}</table>"


def _with_output_padding(layer: _ConvTransposeNd, ops) -> _ConvTransposeNd:
    return type(layer)(
        layer.in_channels,
        layer.out_channels,
        layer.kernel_size,
        layer.stride,
        layer.padding,
        output_padding=tuple(ops),
        groups=layer.groups,
        bias=layer.bias,
        dilation=layer.dilation,
    )
