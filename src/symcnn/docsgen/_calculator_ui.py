"""The hand-written part of ``calculators.js``: BigInt helpers the generated code calls, and the form.

The helpers are the exact integer operations the engine's expressions use (floor division, exact division, mod,
max/min, gcd) and :class:`symcnn.layers.resize.ScaledFloor`'s three cases. The form reads every integer as a
BigInt (never a Number), shows results with thousands separators, a refusal in an alert box (quoted names as
code), and each input's symbol, argument and a one-line hint as visible text.
"""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["UI_JS"]

_HELPERS = r"""
function fdiv(a, b) { const q = a / b; return (a % b !== 0n && ((a < 0n) !== (b < 0n))) ? q - 1n : q; }
function cdiv(a, b) { return -fdiv(-a, b); }
function ediv(a, b) {
  if (a % b !== 0n) throw new Error("inexact division " + a + "/" + b);
  return a / b;
}
function fmod(a, b) { return a - b * fdiv(a, b); }
function bmax(...xs) { return xs.reduce((a, b) => (b > a ? b : a)); }
function bmin(...xs) { return xs.reduce((a, b) => (b < a ? b : a)); }
function gcd(a, b) { a = a < 0n ? -a : a; b = b < 0n ? -b : b; while (b) { [a, b] = [b, a % b]; } return a; }
// floor(w*s) as symcnn's ScaledFloor: s the exact value of the double x (an integer: exact product; a dyadic
// p/q with p < 2**20: exact floor division; otherwise PyTorch's double product, floored)
function sfloor(w, x) {
  let m = x, q = 1n;
  while (!Number.isInteger(m)) { m *= 2; q *= 2n; }
  const p = BigInt(m);
  if (q === 1n) return p * w;
  if (p < 1048576n) return fdiv(p * w, q);
  return BigInt(Math.floor(Number(w) * x));
}
// Python's repr of the exact Fraction of a double (the library's message quotes a refused scale that way)
function pyfraction(x) {
  let m = x, q = 1n;
  while (!Number.isInteger(m)) { m *= 2; q *= 2n; }
  return "Fraction(" + BigInt(m) + ", " + q + ")";
}
function grouped(n) {
  const s = (n < 0n ? -n : n).toString();
  return (n < 0n ? "-" : "") + s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
"""

_FORM = r"""
function symcnnCalcMessage(box, text) {
  box.textContent = "";
  text.split("`").forEach((part, i) => {
    if (i % 2) { const c = document.createElement("code"); c.textContent = part; box.appendChild(c); }
    else box.appendChild(document.createTextNode(part));
  });
}

function symcnnCalcMount(root) {
  const spec = SYMCNN_CALCULATORS[root.dataset.calc];
  if (!spec || root.dataset.mounted) return;
  root.dataset.mounted = "1";
  const uid = "symcnn-" + root.dataset.calc;
  const form = document.createElement("form");
  form.className = "symcnn-calc__form";
  form.addEventListener("submit", (e) => e.preventDefault());
  const inputs = [];
  for (const row of spec.rows) {
    const div = document.createElement("div");
    div.className = "symcnn-calc__row";
    const what = document.createElement("div");
    what.className = "symcnn-calc__what";
    const sym = document.createElement("var");
    const [base, sub] = row.symbol.split("_");
    sym.textContent = base;
    if (sub) { const s = document.createElement("sub"); s.textContent = sub; sym.append(s); }
    const name = document.createElement(row.role === "arg" ? "code" : "span"); name.textContent = row.label;
    const hint = document.createElement("span"); hint.className = "symcnn-calc__hint"; hint.textContent = row.hint;
    hint.id = uid + "-hint-" + row.symbol;
    what.append(sym, " ", name, hint);
    const boxes = document.createElement("div");
    boxes.className = "symcnn-calc__inputs";
    for (const f of row.fields) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "text"; input.inputMode = row.kind === "scale" ? "decimal" : "numeric";
      input.name = f.name; input.value = f.default; input.autocomplete = "off"; input.spellcheck = false;
      input.dataset.kind = row.kind;
      input.setAttribute("aria-describedby", hint.id);
      if (f.axis) { const ax = document.createElement("span"); ax.textContent = f.axis; label.append(ax); }
      else input.setAttribute("aria-label", row.symbol + " " + row.label);
      label.append(input);
      boxes.append(label);
      inputs.push(input);
    }
    div.append(what, boxes);
    form.append(div);
  }
  for (const c of spec.choices) {
    const div = document.createElement("div");
    div.className = "symcnn-calc__row";
    const what = document.createElement("div");
    what.className = "symcnn-calc__what";
    const name = document.createElement("code"); name.textContent = c.label;
    const hint = document.createElement("span"); hint.className = "symcnn-calc__hint"; hint.textContent = c.hint;
    what.append(name, hint);
    const boxes = document.createElement("div");
    boxes.className = "symcnn-calc__inputs";
    const select = document.createElement("select");
    select.name = c.name;
    select.setAttribute("aria-label", c.label);
    for (const o of c.options) { const opt = document.createElement("option"); opt.value = o; opt.textContent = o;
      select.append(opt); }
    boxes.append(select);
    div.append(what, boxes);
    form.append(div);
    inputs.push(select);
  }
  const error = document.createElement("div");
  error.className = "symcnn-error";
  error.setAttribute("role", "alert");
  const table = document.createElement("table");
  table.className = "symcnn-calc__results";
  const tbody = document.createElement("tbody");
  for (const o of spec.outputs) {
    const tr = document.createElement("tr");
    const th = document.createElement("th"); th.scope = "row"; th.textContent = o.label;
    const td = document.createElement("td"); td.dataset.out = o.key;
    tr.append(th, td); tbody.append(tr);
  }
  table.append(tbody);
  root.append(form, error, table);
  const fail = (text) => { symcnnCalcMessage(error, text); error.hidden = false; table.hidden = true; };
  const update = () => {
    const v = {};
    for (const input of inputs) {
      const text = input.value.trim();
      if (input.tagName === "SELECT") { v[input.name] = text; continue; }
      if (input.dataset.kind === "scale") {
        if (!/^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$/.test(text) || !Number.isFinite(Number(text))) {
          fail("Enter a decimal number for " + input.name + "."); return;
        }
        v[input.name] = Number(text);
      } else {
        if (!/^[+-]?[0-9]+$/.test(text)) { fail("Enter a whole number for " + input.name + "."); return; }
        v[input.name] = BigInt(text);
      }
    }
    let r;
    try { r = spec.compute(v); } catch (e) { fail("Internal error: " + e.message); return; }
    if (r.error !== undefined) { fail(r.error); return; }
    error.hidden = true; error.textContent = ""; table.hidden = false;
    for (const o of spec.outputs) {  // a line may break after a thousands separator, never inside a group
      const td = table.querySelector(`[data-out="${o.key}"]`);
      td.textContent = "";
      grouped(r.outputs[o.key]).split(",").forEach((part, i) => {
        if (i) td.append(",", document.createElement("wbr"));
        td.append(part);
      });
    }
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}

if (typeof document$ !== "undefined") {
  document$.subscribe(() => document.querySelectorAll(".symcnn-calc").forEach(symcnnCalcMount));
} else if (typeof document !== "undefined") {
  document.addEventListener("DOMContentLoaded",
    () => document.querySelectorAll(".symcnn-calc").forEach(symcnnCalcMount));
}
if (typeof module !== "undefined") { module.exports = { SYMCNN_CALCULATORS, grouped, pyfraction }; }
"""

UI_JS = SimpleNamespace(helpers=_HELPERS, form=_FORM)
