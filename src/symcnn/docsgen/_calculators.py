"""Browser calculators whose JavaScript is generated from the engine's SymPy expressions and messages.

A calculator builds its layer with *marker* symbols (``vW``, ``vF``, ... : names that never occur in the
library's prose), analyses it once, and prints:

* every output (sizes, params, MACs, FLOPs, connections) with SymPy's JavaScript printer (``FloorDiv`` has a
  ``_javascript`` method in :mod:`symcnn._intmath`);
* every validity condition of the layer, in the order the layer checks them, as a JavaScript test, with the
  layer's own message: the message printed for the marker symbols is split into text and the expression
  fragments it quotes, and each fragment becomes a JavaScript expression (a small parser of the printed
  arithmetic, never ``eval``);
* the argument checks (``kernel_size`` >= 1, ...) in the order the layer constructor makes them, found by
  probing the constructor with out-of-range values; their messages are the library's, with the value filled in.

The tests run the generated code under node over a grid of inputs, valid and invalid, and compare every
output and every message with the library (``layer.infer`` after the constructor, as
:func:`reference_result` does).

>>> calc = CALCULATORS["conv2d"]
>>> reference_result(calc, dict(calc.defaults()))["outputs"]["W_out"]   # floor((224 + 2*3 - 7)/2) + 1
112
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy.printing.jscode import JavascriptCodePrinter

from .. import layers as L
from .._analysis import _as_shape
from .._errors import SymcnnError
from .._symbols import size_symbol
from ..layers._base import Shape, to_expr

__all__ = ["Calculator", "Field", "CALCULATORS", "generate_js", "render_js", "reference_result", "calculator_html"]


@dataclass(frozen=True)
class Field:
    """One integer input: ``name`` (shown), default value, minimum the library accepts, role in the layer."""

    name: str
    default: int
    minimum: int
    role: str  # "arg" (layer argument) or "shape" (input shape entry)
    help: str


@dataclass(frozen=True)
class Calculator:
    name: str
    title: str
    fields: tuple[Field, ...]
    build: Callable[[dict], object]  # values (ints or symbols) -> layer
    shape: Callable[[dict], tuple]  # values -> input shape
    outputs: tuple[str, ...]  # LayerResult quantities shown besides the spatial sizes

    def defaults(self) -> list[tuple[str, int]]:
        return [(f.name, f.default) for f in self.fields]


def _f(name, default, minimum, role, text) -> Field:
    return Field(name, default, minimum, role, text)


_SIZE = (_f("C", 3, 1, "arg", "input channels"), _f("K", 64, 1, "arg", "output channels"),
         _f("H", 224, 1, "shape", "input height"), _f("W", 224, 1, "shape", "input width"))

CALCULATORS: dict[str, Calculator] = {
    "conv2d": Calculator(
        "conv2d", "Conv2d",
        (*_SIZE, _f("F", 7, 1, "arg", "kernel_size"), _f("S", 2, 1, "arg", "stride"),
         _f("P", 3, 0, "arg", "padding"), _f("D", 1, 1, "arg", "dilation")),
        lambda v: L.Conv2d(v["C"], v["K"], v["F"], stride=v["S"], padding=v["P"], dilation=v["D"]),
        lambda v: (v["C"], v["H"], v["W"]),
        ("params", "macs", "flops", "connections"),
    ),
    "conv_transpose2d": Calculator(
        "conv_transpose2d", "ConvTranspose2d",
        (_f("C", 64, 1, "arg", "input channels"), _f("K", 32, 1, "arg", "output channels"),
         _f("H", 3, 1, "shape", "input height"), _f("W", 3, 1, "shape", "input width"),
         _f("F", 3, 1, "arg", "kernel_size"), _f("S", 2, 1, "arg", "stride"), _f("P", 1, 0, "arg", "padding"),
         _f("OP", 1, 0, "arg", "output_padding"), _f("D", 1, 1, "arg", "dilation")),
        lambda v: L.ConvTranspose2d(v["C"], v["K"], v["F"], stride=v["S"], padding=v["P"], output_padding=v["OP"],
                                    dilation=v["D"]),
        lambda v: (v["C"], v["H"], v["W"]),
        ("params", "macs", "flops", "connections"),
    ),
    "max_pool2d": Calculator(
        "max_pool2d", "MaxPool2d, ceil_mode=True",
        (_f("C", 64, 1, "shape", "channels"), _f("H", 112, 1, "shape", "input height"),
         _f("W", 112, 1, "shape", "input width"), _f("F", 3, 1, "arg", "kernel_size"),
         _f("S", 2, 1, "arg", "stride"), _f("P", 0, 0, "arg", "padding"), _f("D", 1, 1, "arg", "dilation")),
        lambda v: L.MaxPool2d(v["F"], stride=v["S"], padding=v["P"], dilation=v["D"], ceil_mode=True),
        lambda v: (v["C"], v["H"], v["W"]),
        ("flops",),
    ),
}


# --- the reference: what the library says for concrete numbers ---------------------------------------------


def reference_result(calc: Calculator, values: dict[str, int]) -> dict:
    """``{"outputs": {...}}`` or ``{"error": message}``: the layer built and run on ``values`` by the library."""
    try:
        layer = calc.build(values)
        shape = _as_shape(calc.shape(values))
        res = layer.infer(Shape(shape))
    except SymcnnError as e:
        return {"error": str(e)}
    out = {"H_out": int(res.output_shape[1]), "W_out": int(res.output_shape[2])}
    for q in calc.outputs:
        out[q] = int(getattr(res, q))
    return {"outputs": out}


# --- JavaScript generation -----------------------------------------------------------------------------------


class _JS(JavascriptCodePrinter):
    """SymPy's JavaScript printer plus symcnn's ``Gcd``; integer powers as repeated products (exact)."""

    def _print_Gcd(self, expr):
        return f"gcd({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Pow(self, expr):
        if expr.exp.is_Integer and 1 < int(expr.exp) <= 4:
            return "(" + "*".join([f"({self._print(expr.base)})"] * int(expr.exp)) + ")"
        return super()._print_Pow(expr)


def _js(expr) -> str:
    return _JS().doprint(sympy.sympify(expr))


def _markers(calc: Calculator) -> dict[str, sympy.Symbol]:
    return {f.name: size_symbol(f"v{f.name}", nonnegative=f.minimum == 0) for f in calc.fields}


_TOKEN = re.compile(r"\s+|\d+|[A-Za-z_][A-Za-z0-9_]*|\*\*|[-+*/(),]|.", re.S)
_FUNCS = {"floor": "Math.floor", "ceil": "Math.ceil", "Max": "Math.max", "Min": "Math.min", "max": "Math.max",
          "min": "Math.min"}


class _Fragment:
    """Parse printed arithmetic over the marker names (as :func:`symcnn.pretty` writes it) into JavaScript."""

    def __init__(self, tokens: list[str], markers: set[str]):
        self.t = tokens
        self.markers = markers
        self.seen_marker = False

    def _skip(self, i: int) -> int:
        while i < len(self.t) and self.t[i].isspace():
            i += 1
        return i

    def _binary(self, i: int, operand, ops: tuple[str, ...], sep: str) -> tuple[str, int]:
        """One precedence level: ``operand (op operand)*``; stops before an operator not followed by an operand."""
        js, i = operand(i)
        while True:
            j = self._skip(i)
            if not (j < len(self.t) and self.t[j] in ops):
                return js, i
            try:
                rhs, k = operand(self._skip(j + 1))
            except ValueError:
                return js, i
            js, i = f"{js}{sep}{self.t[j]}{sep}{rhs}", k

    def expr(self, i: int) -> tuple[str, int]:
        return self._binary(i, self.term, ("+", "-"), " ")

    def term(self, i: int) -> tuple[str, int]:
        return self._binary(i, self.factor, ("*", "/"), "")

    def factor(self, i: int) -> tuple[str, int]:
        if i < len(self.t) and self.t[i] == "-":
            inner, k = self.factor(self._skip(i + 1))
            return f"(-{inner})", k
        base, i = self.atom(i)
        j = self._skip(i)
        if j < len(self.t) and self.t[j] == "**":
            exp, k = self.factor(self._skip(j + 1))
            return f"Math.pow({base}, {exp})", k
        return base, i

    def atom(self, i: int) -> tuple[str, int]:
        if i >= len(self.t):
            raise ValueError("end")
        tok = self.t[i]
        if tok.isdigit():
            return tok, i + 1
        if tok in self.markers:
            self.seen_marker = True
            return tok, i + 1
        if tok in _FUNCS and i + 1 < len(self.t) and self.t[i + 1] == "(":
            args, i = [], i + 2
            while True:
                a, i = self.expr(self._skip(i))
                args.append(a)
                i = self._skip(i)
                if i < len(self.t) and self.t[i] == ",":
                    i += 1
                    continue
                if i < len(self.t) and self.t[i] == ")":
                    return f"{_FUNCS[tok]}({', '.join(args)})", i + 1
                raise ValueError("unclosed call")
        if tok == "(":
            inner, i = self.expr(self._skip(i + 1))
            i = self._skip(i)
            if i < len(self.t) and self.t[i] == ")":
                return f"({inner})", i + 1
        raise ValueError(f"not an expression at {tok!r}")


def message_template(message: str, markers: set[str]) -> str:
    """A JavaScript template literal for a message printed with marker symbols: each quoted expression that
    mentions a marker becomes ``${...}``; the rest is kept verbatim."""
    tokens = _TOKEN.findall(message)
    out, i = [], 0
    while i < len(tokens):
        parser = _Fragment(tokens, markers)
        try:
            js, end = parser.expr(i)
        except ValueError:
            js, end = None, i
        if js is not None and parser.seen_marker and end > i:
            out.append("${" + js + "}")
            i = end
        else:
            out.append(tokens[i].replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${"))
            i += 1
    return "`" + "".join(out) + "`"


def _arg_checks(calc: Calculator) -> list[tuple[str, str]]:
    """(field, message template) of the argument checks, in the order the constructor makes them."""
    order: list[tuple[str, str]] = []
    args = [f for f in calc.fields if f.role == "arg"]
    sentinels = {f.name: -(1000 + k) for k, f in enumerate(args)}
    remaining = dict(sentinels)
    while remaining:
        values = {f.name: remaining.get(f.name, f.default) for f in calc.fields}
        try:
            calc.build(values)
        except SymcnnError as e:
            msg = str(e)
            hit = [n for n, s in remaining.items() if f"={s} " in msg or msg.endswith(f"={s}")]
            if len(hit) != 1:
                raise RuntimeError(f"calculator {calc.name}: cannot attribute {msg!r}") from None
            name = hit[0]
            tmpl = msg.replace(f"={remaining[name]}", "=\x00")
            order.append((name, tmpl))
            del remaining[name]
            continue
        raise RuntimeError(f"calculator {calc.name}: arguments {sorted(remaining)} were accepted below minimum")
    return order


def _shape_check_template() -> str:
    try:
        to_expr("analyze", "input_shape", -1000, minimum=1)
    except SymcnnError as e:
        return str(e).replace("=-1000", "=\x00")
    raise RuntimeError("to_expr accepted -1000 as a size")  # pragma: no cover


def _literal(tmpl: str, var: str) -> str:
    text = tmpl.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    return "`" + text.replace("\x00", "${" + var + "}") + "`"


def _condition_js(label: str, c, names: set[str]) -> str:
    rel = c.relation
    test = {"==": "===", ">=": ">=", "<=": "<=", ">": ">", "<": "<", "!=": "!=="}[rel.rel_op]
    msg = message_template(f"{label}: {c.message}", names)
    return f"  if (!(({_js(rel.lhs)}) {test} ({_js(rel.rhs)}))) return {{error: {msg}}};"


def generate_js(calc: Calculator) -> str:
    """The ``compute(values)`` function of one calculator, as JavaScript source."""
    m = _markers(calc)
    names = set(s.name for s in m.values())
    layer = calc.build(m)
    res = layer.infer(Shape(calc.shape(m)))
    lines = [f"function compute_{calc.name}(v) {{"]
    lines += [f"  const {s.name} = v.{n};" for n, s in m.items()]
    for name, tmpl in _arg_checks(calc):
        f = next(f for f in calc.fields if f.name == name)
        lines.append(f"  if (v{name} < {f.minimum}) return {{error: {_literal(tmpl, 'v' + name)}}};")
    label = layer.label
    built = tuple(getattr(layer, "_arg_conditions", ()))  # checked by the constructor, before any input
    later = [c for c in res.conditions if c not in built]
    for c in built:
        lines.append(_condition_js(label, c, names))
    shape_tmpl = _shape_check_template()
    for entry in calc.shape(m):
        if isinstance(entry, sympy.Symbol) and next(f for f in calc.fields if f"v{f.name}" == entry.name).role == \
                "shape":
            lines.append(f"  if ({entry.name} < 1) return {{error: {_literal(shape_tmpl, entry.name)}}};")
    for c in later:
        lines.append(_condition_js(label, c, names))
    outs = {"H_out": res.output_shape[1], "W_out": res.output_shape[2]}
    outs.update({q: getattr(res, q) for q in calc.outputs})
    body = ", ".join(f"{k}: {_js(v)}" for k, v in outs.items())
    lines.append(f"  return {{outputs: {{{body}}}}};")
    lines.append("}")
    return "\n".join(lines)


_LABELS = {"H_out": "output height", "W_out": "output width", "params": "params", "macs": "MACs",
           "flops": "FLOPs", "connections": "connections"}

_UI = r"""
function gcd(a, b) { a = Math.abs(a); b = Math.abs(b); while (b) { [a, b] = [b, a % b]; } return a; }

function symcnnCalcMount(root) {
  const spec = SYMCNN_CALCULATORS[root.dataset.calc];
  if (!spec || root.dataset.mounted) return;
  root.dataset.mounted = "1";
  const form = document.createElement("div");
  for (const f of spec.fields) {
    const label = document.createElement("label");
    label.textContent = f.name + " ";
    label.title = f.help;
    const input = document.createElement("input");
    input.type = "number"; input.step = "1"; input.value = String(f.default); input.name = f.name;
    input.setAttribute("aria-label", f.name + " (" + f.help + ")");
    label.appendChild(input);
    form.appendChild(label);
  }
  const error = document.createElement("p");
  error.className = "symcnn-error";
  const table = document.createElement("table");
  const tbody = document.createElement("tbody");
  for (const key of spec.outputs) {
    const tr = document.createElement("tr");
    const th = document.createElement("td"); th.textContent = spec.labels[key];
    const td = document.createElement("td"); td.dataset.out = key;
    tr.appendChild(th); tr.appendChild(td); tbody.appendChild(tr);
  }
  table.appendChild(tbody);
  root.appendChild(form); root.appendChild(error); root.appendChild(table);
  const update = () => {
    const v = {};
    for (const input of form.querySelectorAll("input")) {
      const text = input.value.trim();
      if (!/^-?[0-9]+$/.test(text)) {
        error.textContent = "enter an integer for " + input.name; table.style.display = "none"; return;
      }
      v[input.name] = parseInt(text, 10);
    }
    const r = spec.compute(v);
    if (r.error !== undefined) { error.textContent = r.error; table.style.display = "none"; return; }
    error.textContent = ""; table.style.display = "";
    for (const key of spec.outputs) table.querySelector(`[data-out="${key}"]`).textContent = String(r.outputs[key]);
  };
  form.addEventListener("input", update);
  update();
}

if (typeof document$ !== "undefined") {
  document$.subscribe(() => document.querySelectorAll(".symcnn-calc").forEach(symcnnCalcMount));
}
if (typeof module !== "undefined") { module.exports = { SYMCNN_CALCULATORS }; }
"""


def render_js() -> str:
    """The whole ``calculators.js``: one generated ``compute_*`` per calculator, the registry and the UI."""
    parts = ["// Generated by symcnn.docsgen from the engine's SymPy expressions and messages. Do not edit.", ""]
    registry = []
    for calc in CALCULATORS.values():
        parts += [generate_js(calc), ""]
        spec = {"fields": [{"name": f.name, "default": f.default, "help": f.help} for f in calc.fields],
                "outputs": ["H_out", "W_out", *calc.outputs],
                "labels": {k: _LABELS[k] for k in ("H_out", "W_out", *calc.outputs)}}
        registry.append(f"  {json.dumps(calc.name)}: Object.assign({json.dumps(spec)}, "
                        f"{{compute: compute_{calc.name}}}),")
    parts += ["const SYMCNN_CALCULATORS = {", *registry, "};", _UI]
    return "\n".join(parts)


def calculator_html(name: str) -> str:
    """The Markdown block placing a calculator on a page."""
    calc = CALCULATORS[name]
    return (f'<div class="symcnn-calc" data-calc="{calc.name}" markdown="0"></div>\n\n'
            f"*{calc.title}*: outputs and error messages come from JavaScript generated from the same SymPy "
            "expressions and validity conditions as the formulas below; a refused input shows the message the "
            "layer raises (`symcnn.analyze` prefixes it with the layer index and input shape).")



