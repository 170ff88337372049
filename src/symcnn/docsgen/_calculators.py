"""Browser calculators whose JavaScript is generated from the engine's SymPy expressions and messages.

A calculator (defined in :mod:`._calculator_defs`) builds its layer with *marker* symbols (``vX_H``, ``vF_W``, ...:
names that never occur in the library's prose), analyses it once per combination of its choices, and prints:

* every output (sizes, params, MACs, FLOPs, connections, the derived facts) with a JavaScript printer over
  **BigInt**: integer literals are ``123n``, ``FloorDiv`` is ``fdiv`` (floor division), a quotient is ``ediv``
  (exact division, which throws if it is not), ``Max``/``Min``/``Mod``/``Gcd`` have BigInt helpers, and
  ``ScaledFloor`` (``Upsample``'s ``floor(X*s)``) is ``sfloor``, which follows the same three cases as the
  engine's class (integer scale, short dyadic scale, PyTorch's double product). No size is ever a Number, so
  values above 2**53 stay exact;
* every validity check, in the order the library makes them: the argument checks of the constructor (their
  order and messages found by probing it with out-of-range values and by building it with unsigned symbols),
  the input-shape checks of :func:`symcnn.analyze`, then the conditions of ``infer``; each with the layer's own
  message, whose quoted expressions become JavaScript (a small parser of the printed arithmetic, never
  ``eval``).

The tests run the generated code under node on thousands of random inputs (valid and refused, sizes above 2**53)
and compare every number and message with :func:`symcnn.analyze` (:func:`reference_result`).

>>> calc = CALCULATORS["conv2d"]
>>> reference_result(calc, calc.defaults())["outputs"]["W_out"]   # floor((224 + 2*3 - 7)/2) + 1
112
"""

from __future__ import annotations

import json
import re
from fractions import Fraction

import sympy
from sympy.printing.jscode import JavascriptCodePrinter

from .._errors import SymcnnError
from ..layers._base import Shape, to_expr
from ..present import fmt, pretty
from ._calculator_defs import CALCULATORS, SCALE_PLACEHOLDERS, Calculator, Choice, Field, Row
from ._calculator_page import render_calculator_page
from ._calculator_ui import UI_JS

__all__ = ["Calculator", "Field", "Row", "Choice", "CALCULATORS", "generate_js", "render_js", "reference_result",
           "calculator_html", "message_template", "OUTPUT_LABELS", "render_calculator_page"]

OUTPUT_LABELS = {"params": "parameters", "macs": "MACs (multiply-accumulates)",
                 "flops": "FLOPs", "connections": "connections (LeNet's count)"}
_AXIS_WORD = {"L": "length", "T": "depth", "H": "height", "W": "width"}


def _out_keys(calc: Calculator) -> list[tuple[str, str]]:
    keys = [(f"{a}_out", f"output {_AXIS_WORD[a]} ({a}_out)") for a in calc.axes]
    keys += [(q, OUTPUT_LABELS[q]) for q in calc.outputs]
    return keys + list(calc.extra_labels)


# --- the reference: what the library says for concrete numbers ---------------------------------------------


def _python_values(calc: Calculator, values: dict) -> dict:
    out = {}
    for f in calc.fields:
        out[f.name] = float(values[f.name]) if f.kind == "scale" else int(values[f.name])
    out.update(calc.choice_values(values))
    return out


def reference_result(calc: Calculator, values: dict) -> dict:
    """``{"outputs": {key: int}}`` or ``{"error": message}`` for ``values`` (field -> number, choice -> option
    text): the layer built by the library and analysed with :func:`symcnn.analyze`. A refusal is the layer's own
    message (``Label: text``); the message ``analyze`` raises is checked to be that text with its usual prefix."""
    from .._analysis import analyze

    v = _python_values(calc, values)
    try:
        layer = calc.build(v)
    except SymcnnError as e:
        return {"error": str(e)}
    shape = calc.shape(v)
    try:
        a = analyze(layer, shape)
    except SymcnnError as e:
        msg = str(e)
        if msg.startswith("analyze: "):
            return {"error": msg}
        prefix = f"layer 0 '{layer.kind}' ({layer!r}) with input {fmt(tuple(Shape(map(sympy.Integer, shape))))}: "
        if not msg.startswith(prefix):  # pragma: no cover - the calculator would show another text
            raise AssertionError(f"unexpected analyze message {msg!r}") from None
        return {"error": f"{layer.label}: {msg[len(prefix):]}"}
    spatial = tuple(a.output_shape)[1:]
    out = {f"{ax}_out": int(s) for ax, s in zip(calc.axes, spatial, strict=True)}
    for q in calc.outputs:
        out[q] = int(getattr(a, q))
    if calc.extras is not None:
        out.update({k: int(e) for k, e in calc.extras(layer, v, spatial).items()})
    return {"outputs": out}


# --- the BigInt printer --------------------------------------------------------------------------------------


class _BigIntJS(JavascriptCodePrinter):
    """SymPy's JavaScript printer, made exact: every integer a BigInt, every quotient an exact or floor division.

    ``printmethod`` is our own, so the classes' ``_javascript`` hooks (Number arithmetic) are never used; symcnn's
    classes are printed by class name."""

    printmethod = "_symcnn_bigint_js"

    def __init__(self, scales: dict | None = None):
        super().__init__()
        self.scales = scales or {}

    def _print_Integer(self, expr):
        n = int(expr)
        return f"{n}n" if n >= 0 else f"(-{-n}n)"

    _print_Zero = _print_One = _print_NegativeOne = _print_Integer

    def _print_Rational(self, expr):
        return f"ediv({int(expr.p)}n, {int(expr.q)}n)"

    _print_Half = _print_Rational

    def _print_Float(self, expr):  # pragma: no cover - no float ever reaches a size
        raise TypeError(f"calculator: float {expr} in a size expression")

    def _print_Symbol(self, expr):
        return expr.name

    def _quotient(self, expr):
        num, den = expr.as_numer_denom()
        if den != 1:
            return f"ediv({self._print(num)}, {self._print(den)})"
        return None

    def _print_Add(self, expr, order=None):
        q = self._quotient(expr)
        if q is not None:
            return q
        return "(" + " + ".join(self._print(t) for t in expr.args) + ")"

    def _print_Mul(self, expr):
        q = self._quotient(expr)
        if q is not None:
            return q
        return "(" + "*".join(self._print(f) for f in expr.args) + ")"

    def _print_Pow(self, expr):
        if expr.exp.is_Integer and expr.exp > 0:
            return f"({self._print(expr.base)})**{int(expr.exp)}n"
        q = self._quotient(expr)
        if q is not None:
            return q
        raise TypeError(f"calculator: cannot print {expr} exactly")  # pragma: no cover

    def _print_FloorDiv(self, expr):
        return f"fdiv({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Mod(self, expr):
        return f"fmod({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Gcd(self, expr):
        return f"gcd({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Max(self, expr):
        return "bmax(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr):
        return "bmin(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_ScaledFloor(self, expr):
        w, s = expr.args
        var = self.scales.get(sympy.Rational(s))
        if var is None:
            return f"sfloor({self._print(w)}, {float(s)!r})"
        return f"sfloor({self._print(w)}, {var})"

    def _print_Function(self, expr):  # pragma: no cover - every function the engine emits is handled above
        raise TypeError(f"calculator: no exact JavaScript for {type(expr).__name__}")


def _js(expr, scales: dict | None = None) -> str:
    return _BigIntJS(scales).doprint(sympy.sympify(expr))


# --- messages: printed arithmetic -> a JavaScript template literal ---------------------------------------------

_TOKEN = re.compile(r"\s+|\d+|[A-Za-z_][A-Za-z0-9_]*|\*\*|[-+*/(),]|.", re.S)
_CALLS = {"max": "bmax", "min": "bmin", "gcd": "gcd"}


class _Fragment:
    """Parse printed arithmetic over the marker names (as :func:`symcnn.pretty` writes it) into BigInt JavaScript:
    numbers become ``123n``, ``floor(a/b)`` ``fdiv(a, b)``, ``ceil(a/b)`` ``cdiv(a, b)``, another ``a/b`` an exact
    ``ediv(a, b)``, ``max``/``min``/``gcd`` the BigInt helpers. ``extra`` maps placeholder names to JavaScript."""

    def __init__(self, tokens: list[str], markers: set[str], extra: dict[str, str]):
        self.t = tokens
        self.markers = markers
        self.extra = extra
        self.seen_marker = False

    def _skip(self, i: int) -> int:
        while i < len(self.t) and self.t[i].isspace():
            i += 1
        return i

    def _binary(self, i: int, operand, ops: tuple[str, ...]):
        """One precedence level: ``operand (op operand)*``; stops before an operator not followed by an operand."""
        node, i = operand(i)
        while True:
            j = self._skip(i)
            if not (j < len(self.t) and self.t[j] in ops):
                return node, i
            try:
                rhs, k = operand(self._skip(j + 1))
            except ValueError:
                return node, i
            node, i = ("bin", self.t[j], node, rhs), k

    def expr(self, i: int):
        return self._binary(i, self.term, ("+", "-"))

    def term(self, i: int):
        return self._binary(i, self.factor, ("*", "/"))

    def factor(self, i: int):
        if i < len(self.t) and self.t[i] == "-":
            inner, k = self.factor(self._skip(i + 1))
            return ("neg", inner), k
        base, i = self.atom(i)
        j = self._skip(i)
        if j < len(self.t) and self.t[j] == "**":
            exp, k = self.factor(self._skip(j + 1))
            return ("bin", "**", base, exp), k
        return base, i

    def atom(self, i: int):
        if i >= len(self.t):
            raise ValueError("end")
        tok = self.t[i]
        if tok.isdigit():
            return ("num", tok), i + 1
        if tok in self.markers or tok in self.extra:
            self.seen_marker = True
            return ("js", self.extra.get(tok, tok)), i + 1
        if tok in (*_CALLS, "floor", "ceil") and i + 1 < len(self.t) and self.t[i + 1] == "(":
            args, i = [], i + 2
            while True:
                a, i = self.expr(self._skip(i))
                args.append(a)
                i = self._skip(i)
                if i < len(self.t) and self.t[i] == ",":
                    i += 1
                    continue
                if i < len(self.t) and self.t[i] == ")":
                    return ("call", tok, args), i + 1
                raise ValueError("unclosed call")
        if tok == "(":
            inner, i = self.expr(self._skip(i + 1))
            i = self._skip(i)
            if i < len(self.t) and self.t[i] == ")":
                return inner, i + 1
        raise ValueError(f"not an expression at {tok!r}")


def _emit(node) -> str:
    kind = node[0]
    if kind == "num":
        return f"{node[1]}n"
    if kind == "js":
        return node[1]
    if kind == "neg":
        return f"(-{_emit(node[1])})"
    if kind == "bin":
        _, op, a, b = node
        if op == "/":
            return f"ediv({_emit(a)}, {_emit(b)})"
        return f"({_emit(a)} {op} {_emit(b)})"
    _, name, args = node
    if name in ("floor", "ceil"):
        if len(args) == 1 and args[0][0] == "bin" and args[0][1] == "/":
            helper = "fdiv" if name == "floor" else "cdiv"
            return f"{helper}({_emit(args[0][2])}, {_emit(args[0][3])})"
        raise ValueError(f"{name} of a non-quotient")
    return f"{_CALLS[name]}({', '.join(_emit(a) for a in args)})"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")


def message_template(message: str, markers: set[str], extra: dict[str, str] | None = None) -> str:
    """A JavaScript template literal for a message printed with marker symbols: each quoted expression that
    mentions a marker becomes ``${...}`` (BigInt arithmetic); the rest is kept verbatim."""
    extra = extra or {}
    tokens = _TOKEN.findall(message)
    out, i = [], 0
    while i < len(tokens):
        parser = _Fragment(tokens, markers, extra)
        try:
            node, end = parser.expr(i)
            js = _emit(node)
        except ValueError:
            js, end = None, i
        if js is not None and parser.seen_marker and end > i:
            out.append("${" + js + "}")
            i = end
        else:
            out.append(_escape(tokens[i]))
            i += 1
    return "`" + "".join(out) + "`"


# --- the checks, in the library's order -------------------------------------------------------------------


def _markers(calc: Calculator, signed: bool = False) -> dict:
    """Field -> marker: a positive (nonnegative for paddings) integer symbol, or with ``signed`` one without a sign
    (its minimum becomes a condition the constructor records, in order); scales get their placeholder."""
    out = {}
    for f in calc.fields:
        if f.kind == "scale":
            out[f.name] = SCALE_PLACEHOLDERS[f.name]
        elif signed:
            out[f.name] = sympy.Symbol(f"v{f.name}", integer=True)
        elif f.minimum == 0:
            out[f.name] = sympy.Symbol(f"v{f.name}", integer=True, nonnegative=True)
        else:
            out[f.name] = sympy.Symbol(f"v{f.name}", integer=True, positive=True)
    return out


def _concrete_default(f: Field):
    return float(f.default) if f.kind == "scale" else int(f.default)


def _shown(sentinel) -> str:
    """How a refused value appears in the library's message: an int as is, a float scale as its exact
    ``Fraction`` (the library converts the double before checking it)."""
    return f"={Fraction(sentinel)!r}" if isinstance(sentinel, float) else f"={sentinel}"


def _probe(calc: Calculator, choices: dict) -> list[tuple[str, str]]:
    """(field, message with ``\\x00`` for the value) of the constructor's range checks, in the order it makes them."""
    args = [f for f in calc.fields if f.role == "arg"]
    sentinels = {f.name: (-(1000.5 + k) if f.kind == "scale" else -(1000 + k)) for k, f in enumerate(args)}
    remaining = dict(sentinels)
    order: list[tuple[str, str]] = []
    while remaining:
        values = {f.name: remaining.get(f.name, _concrete_default(f)) for f in calc.fields}
        try:
            calc.build({**values, **choices})
        except SymcnnError as e:
            msg = str(e)
            hit = [n for n, s in remaining.items() if _shown(s) in msg]
            if len(hit) != 1:
                raise RuntimeError(f"calculator {calc.name}: cannot attribute {msg!r}") from None
            name = hit[0]
            order.append((name, msg.replace(_shown(remaining[name]), "=\x00")))
            del remaining[name]
            continue
        raise RuntimeError(f"calculator {calc.name}: arguments {sorted(remaining)} were accepted below minimum")
    return order


_MIN_MESSAGE = re.compile(r"^`\w+`=v(\w+) must be >= -?\d+$")


def _constructor_sequence(calc: Calculator, choices: dict) -> list[tuple[str, object]]:
    """The constructor's checks in order: ``("min", field)`` range checks and ``("cond", Condition)``."""
    layer = calc.build({**_markers(calc, signed=True), **choices})
    seq: list[tuple[str, object]] = []
    for c in getattr(layer, "_arg_conditions", ()):
        m = _MIN_MESSAGE.match(c.message)
        if m and {s.name for s in c.relation.free_symbols} == {f"v{m.group(1)}"}:
            seq.append(("min", m.group(1)))
        else:
            seq.append(("cond", c))
    probed = [name for name, _ in _probe(calc, choices)]
    listed = [x for k, x in seq if k == "min"]
    if [n for n in probed if n in listed] != listed:
        raise RuntimeError(f"calculator {calc.name}: range checks out of order")  # pragma: no cover
    for name in (n for n in probed if n not in listed):  # checks made without a Checker (no condition)
        later = [j for j, (k, x) in enumerate(seq) if k == "min" and probed.index(x) > probed.index(name)]
        seq.insert(later[0] if later else len(seq), ("min", name))
    return seq


def _shape_template() -> str:
    try:
        to_expr("analyze", "input_shape", -1000, minimum=1)
    except SymcnnError as e:
        return str(e).replace("=-1000", "=\x00")
    raise RuntimeError("to_expr accepted -1000 as a size")  # pragma: no cover


_INT64 = 2**63 - 1
_BEYOND = 2**63 + 7  # a sentinel beyond int64


def _int64_templates(calc: Calculator, choices_text: dict) -> dict[str, str]:
    """Field -> the library's message (``\x00`` for the value) refusing a value beyond int64, as PyTorch does;
    found by asking the library with that one value beyond int64 (input sizes: :func:`symcnn.analyze`'s check)."""
    out = {}
    for f in calc.fields:
        if f.kind == "scale":
            continue
        msg = reference_result(calc, {**calc.defaults(), f.name: _BEYOND, **choices_text}).get("error", "")
        if f"={_BEYOND} " not in msg or "int64" not in msg:  # pragma: no cover
            raise RuntimeError(f"calculator {calc.name}: {f.name} beyond int64 is not refused")
        out[f.name] = msg.replace(f"={_BEYOND} ", "=\x00 ")
    return out


def _output_int64_template(calc: Calculator, choices_text: dict, axis: str) -> str | None:
    """The library's refusal of an output size beyond int64 along ``axis`` (``\x00`` the output size, ``\x01``
    the input size), found with a large scale; None when the layer has no scale (its outputs are then bounded
    by checked arguments)."""
    if not any(f.kind == "scale" for f in calc.fields):
        return None
    w = 2**62 + 3
    values = {**calc.defaults(), f"X_{axis}": w, f"s_{axis}": 4.0, **choices_text}
    msg, o = reference_result(calc, values).get("error", ""), 4 * w
    if "int64" not in msg or f" {o} " not in msg or f" {w} " not in msg:  # pragma: no cover
        raise RuntimeError(f"calculator {calc.name}: no refusal of an output beyond int64")
    return msg.replace(f" {o} ", " \x00 ").replace(f" {w} ", " \x01 ")


def _literal(tmpl: str, value_js: str) -> str:
    return "`" + _escape(tmpl).replace("\x00", "${" + value_js + "}") + "`"


def _condition_js(label: str, c, names: set[str], scales: dict) -> str:
    rel = c.relation
    test = {"==": "===", ">=": ">=", "<=": "<=", ">": ">", "<": "<", "!=": "!=="}[rel.rel_op]
    message, extra = f"{label}: {c.message}", {}
    for k, atom in enumerate(sorted(rel.atoms(sympy.Function), key=sympy.default_sort_key)):
        if type(atom).__name__ == "ScaledFloor" and pretty(atom) in message:
            message = message.replace(pretty(atom), f"vPLACEHOLDER{k}")
            extra[f"vPLACEHOLDER{k}"] = _js(atom, scales)
    msg = message_template(message, names, extra)
    return f"  if (!({_js(rel.lhs, scales)} {test} {_js(rel.rhs, scales)})) return {{error: {msg}}};"


def _variant_js(calc: Calculator, fname: str, choices_text: dict) -> str:
    choices = calc.choice_values(choices_text)
    m = _markers(calc)
    scales = {sympy.Rational(ph.numerator, ph.denominator): f"v{n}" for n, ph in SCALE_PLACEHOLDERS.items()
              if n in m}
    names = {f"v{f.name}" for f in calc.fields}
    fields = {f.name: f for f in calc.fields}
    layer = calc.build({**m, **choices})
    shape = calc.shape(m)
    res = layer.infer(Shape(shape))
    lines = [f"function {fname}(v) {{"]
    lines += [f"  const v{f.name} = v.{f.name};" for f in calc.fields]
    probes = dict(_probe(calc, choices))
    beyond = _int64_templates(calc, choices_text)

    def int64_check(x: str) -> str:  # checked with the value's range, just before its minimum
        return (f"  if (v{x} > {_INT64}n || v{x} < -{_INT64}n) return {{error: {_literal(beyond[x], 'v' + x)}}};")

    for kind, x in _constructor_sequence(calc, choices):
        if kind == "min":
            f = fields[x]
            if f.kind == "scale":
                lines.append(f"  if (!(v{x} > 0)) return {{error: {_literal(probes[x], f'pyfraction(v{x})')}}};")
            else:
                lines.append(int64_check(x))
                lines.append(f"  if (v{x} < {f.minimum}n) return {{error: {_literal(probes[x], 'v' + x)}}};")
        else:
            lines.append(_condition_js(layer.label, x, names, scales))
    shape_tmpl = _shape_template()
    for entry in shape:
        if isinstance(entry, sympy.Symbol) and fields[entry.name[1:]].role == "shape":
            lines.append(int64_check(entry.name[1:]))
            lines.append(f"  if ({entry.name} < 1n) return {{error: {_literal(shape_tmpl, entry.name)}}};")
    built = tuple(getattr(layer, "_arg_conditions", ()))
    spatial = tuple(res.output_shape)[1:]
    limits = {o: (a, _output_int64_template(calc, choices_text, a)) for a, o in zip(calc.axes, spatial, strict=True)}
    for c in res.conditions:
        if c not in built:
            lines.append(_condition_js(layer.label, c, names, scales))
            a, tmpl = limits.get(c.relation.lhs, (None, None)) if isinstance(c.relation, sympy.Ge) else (None, None)
            if tmpl is not None:  # an output size beyond int64, refused right after its ">= 1" check
                o = _js(c.relation.lhs, scales)
                msg = "`" + _escape(tmpl).replace("\x00", "${" + o + "}").replace("\x01", "${vX_" + a + "}") + "`"
                lines.append(f"  if ({o} > {_INT64}n) return {{error: {msg}}};")
    outs = {f"{a}_out": s for a, s in zip(calc.axes, spatial, strict=True)}
    outs.update({q: getattr(res, q) for q in calc.outputs})
    if calc.extras is not None:
        outs.update(calc.extras(layer, m, spatial))
    body = ",\n    ".join(f"{k}: {_js(v, scales)}" for k, v in outs.items())
    lines.append(f"  return {{outputs: {{\n    {body}}}}};")
    lines.append("}")
    return "\n".join(lines)


def generate_js(calc: Calculator) -> str:
    """The ``compute_<name>(values)`` function of one calculator (one generated function per combination of its
    choices, and a dispatcher), as JavaScript source."""
    parts, cases = [], []
    for k, variant in enumerate(calc.variants()):
        fname = f"compute_{calc.name}__{k}"
        parts.append(_variant_js(calc, fname, variant))
        key = "|".join(variant[c.name] for c in calc.choices)
        cases.append(f"    case {json.dumps(key)}: return {fname}(v);")
    key_js = " + \"|\" + ".join(f"v[{json.dumps(c.name)}]" for c in calc.choices) or '""'
    parts.append(f"function compute_{calc.name}(v) {{\n  switch ({key_js}) {{\n" + "\n".join(cases)
                 + "\n  }\n  throw new Error(\"unknown choice\");\n}")
    return "\n\n".join(parts)


def _spec(calc: Calculator) -> dict:
    rows = [{"symbol": r.symbol, "label": r.label, "hint": r.hint, "kind": r.kind, "role": r.role,
             "fields": [{"name": f.name, "axis": f.axis, "default": str(f.default)} for f in r.fields()]}
            for r in calc.rows]
    choices = [{"name": c.name, "label": c.label, "hint": c.hint, "options": [o for o, _ in c.options]}
               for c in calc.choices]
    return {"title": calc.title, "rows": rows, "choices": choices,
            "outputs": [{"key": k, "label": label} for k, label in _out_keys(calc)]}


def render_js() -> str:
    """The whole ``calculators.js``: the generated ``compute_*`` functions, the registry and the form code."""
    parts = ["// Generated by symcnn.docsgen from the engine's SymPy expressions and messages. Do not edit.",
             "\"use strict\";", UI_JS.helpers, ""]
    registry = []
    for calc in CALCULATORS.values():
        parts += [generate_js(calc), ""]
        registry.append(f"  {json.dumps(calc.name)}: Object.assign({json.dumps(_spec(calc))}, "
                        f"{{compute: compute_{calc.name}}}),")
    parts += ["const SYMCNN_CALCULATORS = {", *registry, "};", UI_JS.form]
    return "\n".join(parts)


def calculator_html(name: str) -> str:
    """The Markdown block placing a calculator on a page."""
    calc = CALCULATORS[name]
    return (f'<div class="symcnn-calc" data-calc="{calc.name}" markdown="0"></div>\n\n'
            f"*Calculator: {calc.title}.* Every number is computed exactly (any size, also above 2^53) by "
            "JavaScript generated from the same expressions and validity conditions as the formulas on this page; "
            "an input the library refuses shows the layer's own message.")
