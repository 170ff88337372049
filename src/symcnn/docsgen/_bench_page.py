"""The benchmarks page, rendered from ``bench/results.json`` (written by ``python bench/run.py``).

:func:`render` is pure: it returns ``{"reference/benchmarks.md": markdown, "reference/assets/benchmarks.svg":
svg}`` (paths under ``docs/``; the plot only when a sweep was recorded) and never runs a benchmark. Without
results the page says that none were recorded. Targets are shown as recorded: a missed target is written
"**missed**", never hidden.

>>> pages = render({"machine": {"cpu": "x", "cores": 2}, "targets": [
...     {"issue": "8", "what": "t", "value": 3.0, "limit": 10, "unit": "x", "comparison": ">=", "met": False}]})
>>> "**missed**" in pages[PAGE]
True
>>> render({}) == render({"targets": []})
True
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["render", "results_path", "load"]

TOOLS = ("fvcore", "ptflops", "torchinfo")
_COLORS = {"symcnn": "#000000", "fvcore": "#1f77b4", "ptflops": "#ff7f0e", "torchinfo": "#2ca02c"}
#: where the page and the plot go, relative to docs/ (inside the generated, git-ignored folder)
PAGE = "reference/benchmarks.md"
PLOT = "reference/assets/benchmarks.svg"
SCALE_PLOT = "reference/assets/benchmarks-scale.svg"
_SVG = "assets/benchmarks.svg"  # the plots as linked from the page
_SCALE_SVG = "assets/benchmarks-scale.svg"


def results_path() -> Path:
    """``<repository>/bench/results.json``."""
    return Path(__file__).resolve().parents[3] / "bench" / "results.json"


def load(path: Path | None = None) -> dict | None:
    """The recorded results, or None when the file does not exist."""
    path = path or results_path()
    if not path.is_file():
        return None
    return json.loads(path.read_text())


# --- number formatting ----------------------------------------------------------------------------------------
def _sec(x) -> str:
    """Seconds with three significant digits, in s, ms or µs."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if x >= 1:
        return f"{x:.3g} s" if x < 100 else f"{x:.0f} s"
    if x >= 1e-3:
        return f"{x * 1e3:.3g} ms"
    return f"{x * 1e6:.3g} µs"


def _ratio(x) -> str:
    return "-" if x is None else (f"{x:,.0f}x" if x >= 100 else f"{x:.3g}x")


def _value(t: dict) -> str:
    v = t.get("value")
    if v is None:
        return "-"
    unit = t.get("unit")
    if unit == "s":
        return _sec(v)
    if unit == "x":
        return _ratio(v)
    if unit == "yes=1":
        return "yes" if v else "no"
    return f"{v:g} {unit}" if isinstance(v, (int, float)) else str(v)


def _limit(t: dict) -> str:
    lim, unit = t.get("limit"), t.get("unit")
    if unit == "s" and isinstance(lim, (int, float)):
        shown = _sec(lim)
    elif unit == "x":
        shown = _ratio(lim)
    elif unit == "yes=1":
        return "yes"
    else:
        shown = f"{lim} {unit}"
    return f"{t.get('comparison', '<')} {shown}"


def _status(t: dict) -> str:
    met = t.get("met")
    return "not measured" if met is None else ("met" if met else "**missed**")


def _cell(text) -> str:
    """Table cells never contain a pipe (it would end the cell)."""
    return str(text).replace("|", "/").replace("\n", " ")


def _table(head: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out + [""]


# --- sections ---------------------------------------------------------------------------------------------------
def _machine(res: dict) -> list[str]:
    m = res.get("machine", {})
    v = m.get("versions", {})
    tools = ", ".join(f"{k} {v[k]}" for k in ("torch", *TOOLS) if v.get(k))
    load = m.get("load_before")
    lines = [
        f"Recorded {m.get('date', '(date not recorded)')} at commit `{m.get('commit') or '?'}` on "
        f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores; Python {v.get('python', '?')}, "
        f"SymPy {v.get('sympy', '?')}, NumPy {v.get('numpy', '?')}" + (f"; {tools}." if tools else "."),
    ]
    if load:
        after = m.get("load_after") or ["?"]
        lines.append(f"Load average (1 min) {load[0]:.2f} before and {after[0]:.2f} after the run: the machine is "
                     "shared, so timings carry that noise; every figure comes from one run of "
                     "`python bench/run.py`.")
    peak = max(load[0], *(m.get("load_after") or [0])[:1]) if load else 0
    if load and m.get("cores") and peak > m["cores"]:
        lines.append(f"**The machine was busy** (1-minute load up to {peak:.1f} on {m['cores']} cores): timings "
                     "of torch forward passes suffer most from that, so ratios and the forward-pass target are "
                     "less reliable than on a quiet machine.")
    if res.get("quick"):
        lines.append("This is a `--quick` smoke run (3 sizes, resnet50), not the full benchmark.")
    return [" ".join(lines), ""]


def _targets(res: dict) -> list[str]:
    ts = res.get("targets", [])
    if not ts:
        return ["No targets were evaluated.", ""]
    missed = [t for t in ts if t.get("met") is False]
    unmeasured = [t for t in ts if t.get("met") is None]
    summary = f"{sum(t.get('met') is True for t in ts)} of {len(ts)} targets met"
    if missed:
        summary += f"; {len(missed)} missed: " + "; ".join(f"{t['what']} (issue {t['issue']})" for t in missed)
    if unmeasured:
        summary += f"; {len(unmeasured)} not measured"
    rows = [[t.get("issue", ""), t.get("what", ""), _value(t), _limit(t), _status(t), t.get("note", "")]
            for t in ts]
    return [summary + ".", "", *_table(["issue", "target", "measured", "limit", "status", "note"], rows)]


def _sweep_rows(row: dict, sizes: list[int], agreement: dict) -> list[list]:
    ours = row.get("symcnn", {})
    base = ours.get("wall_s")
    i224 = sizes.index(224) if 224 in sizes else None
    rows = []
    for tool in ("symcnn", *TOOLS):
        r = row.get(tool)
        if r is None:
            continue
        if "error" in r:
            rows.append([tool, "failed: " + r["error"], "", "", "", "", "", "", ""])
            continue
        per = r.get("per_size_s", [])
        if tool == "symcnn":
            t_user = r["wall_s"]
            more = r.get("marginal", {}).get("scalar_median_s")
            agree = "reference"
        else:
            t_user = r.get("tool_s", r["wall_s"])
            steady = per[1:] or per
            more = statistics.median(steady) if steady else None
            a = agreement.get(tool, {})
            if "macs" in a:
                agree = f"{a['macs']['equal_sizes']}/{len(sizes)} equal"
                if not a["macs"]["agree"]:
                    agree += f", max rel. diff {a['macs']['max_rel_diff']:.2g}"
            else:
                agree = "not compared"
        macs224 = f"{r['macs'][i224]:,}" if i224 is not None and len(r.get("macs", [])) > i224 else "-"
        rows.append([tool, _sec(r["wall_s"]), _sec(t_user), _sec(per[0] if per else None), _sec(more),
                     "1x" if tool == "symcnn" else _ratio(t_user / base if base else None), macs224, agree,
                     f"{r['load']:.1f}" if "load" in r else "-"])
    return rows


def _sweep(res: dict) -> list[str]:
    sw, sizes = res.get("sweep", {}), res.get("sizes", [])
    if not sw:
        return ["No sweep was recorded.", ""]
    lines = [
        f"MACs and parameters at {len(sizes)} square input sizes ({sizes[0]} to {sizes[-1]}), batch 1. Each tool "
        "runs in its own fresh process: symcnn imports, builds the model, analyses it once with symbolic (3, H, W), "
        "evaluates the lambdified MACs at every size and, from the same analysis, the closed forms of the three "
        "tools' conventions (`symcnn.count`) at every size; fvcore, ptflops and torchinfo import torch, build the "
        "model's torch twin and run one forward pass per size on the CPU (their default settings). "
        "*wall* is the whole process seen from outside; *tool time* leaves out building the twin "
        "(symcnn's import and `to_torch`), which favours the tools; *first size* includes one-time costs "
        "(tracing, hooks); *one more size* is the median over the other sizes (symcnn: a scalar call of the "
        "lambdified MACs, measured in the scale section). *ratio* is tool time / symcnn wall. *agrees*: equal "
        "MACs at how many sizes (see the next section for what is compared). *load*: the machine's 1-minute "
        "load average when the measurement ended." + (f" Each row is the fastest of {res['repeat']} fresh "
                                                       "processes." if res.get("repeat", 1) > 1 else ""), "",
    ]
    if sw and any("error" not in row for row in sw.values()):
        lines += [f"![Time to get MACs for n input sizes, per tool (log scale)]({_SVG})", ""]
    for name, row in sw.items():
        lines.append(f"### {name}")
        lines.append("")
        if "error" in row:
            lines += [f"Not measured: {row['error']}.", ""]
            continue
        agreement = res.get("agreement", {}).get(name, {})
        head = ["tool", "wall", "tool time", "first size", "one more size", "ratio", "MACs at 224", "agrees", "load"]
        lines += _table(head, _sweep_rows(row, sizes, agreement))
        ours = row.get("symcnn", {})
        if "phases_s" in ours and "process_s" in ours:
            ph = ours["phases_s"]
            parts = [f"interpreter start {_sec(ours['wall_s'] - ours['process_s'])}"]
            parts += [f"{k} {_sec(v)}" for k, v in ph.items()]
            parts.append(f"the {len(sizes)} evaluations {_sec(sum(ours.get('per_size_s', [])))}")
            lines += [f"Where symcnn's {_sec(ours['wall_s'])} go: " + ", ".join(parts) + ".", ""]
    return lines


def _agreement(res: dict) -> list[str]:
    ag = res.get("agreement", {})
    if not ag:
        return ["No agreement check was recorded.", ""]
    rows = []
    for name, per_tool in ag.items():
        for tool, a in per_tool.items():
            if "error" in a:
                rows.append([name, tool, "tool failed", "", "", ""])
                continue
            m = a.get("macs")
            p = a.get("params", {})
            rows.append([name, tool, a.get("compared", ""),
                         "-" if m is None else ("yes" if m["agree"] else "**no**"),
                         "-" if m is None else f"{m['max_rel_diff']:.2g}",
                         "yes" if p.get("agree") else "**no**"])
    return _table(["model", "tool", "compared", "MACs equal at every size", "max rel. diff", "params equal"], rows)


def _math(text: str) -> str:
    """A recorded closed form (text as ``symcnn.pretty`` printed it) as people write it: ``ceil(H/32)`` -> ⌈H/32⌉.
    Read back with the whitelist parser (never evaluated); left as recorded if it does not parse."""
    from .._errors import SymcnnError
    from .._parse import parse_expr_safe
    from ..present import pretty

    try:
        return pretty(parse_expr_safe(text), unicode=True)
    except (SymcnnError, ValueError):
        return text


def _scale(res: dict) -> list[str]:
    sc = res.get("scale", {})
    if not sc:
        return ["No scale measurements were recorded.", ""]
    rows = []
    for name, r in sorted(sc.items(), key=lambda kv: kv[1].get("layers", 0)):
        if "error" in r:
            rows.append([name, "failed: " + r["error"], "", "", "", "", "", ""])
            continue
        fs, m = r.get("feature_size", {}), r.get("macs", {})
        shown = name if r.get("input_shape", "(3, H, W)") == "(3, H, W)" else f"{name} on {r['input_shape']}"
        rows.append([shown, r.get("layers", "-"), _sec(r.get("analyze_first_s")), _sec(r.get("analyze_warm_min_s")),
                     f"`{_math(fs['expr'])}` ({fs['count_ops']})" if fs else "-",
                     f"{m.get('count_ops', '-')} ops, {m.get('product_terms', '-')} products",
                     _sec(r.get("marginal", {}).get("scalar_median_s")),
                     _sec(r.get("marginal", {}).get("vectorised_per_size_s"))])
    lines = [
        "Every zoo model analysed with symbolic (3, H, W) in a fresh process (or the input its first layer "
        "requires, as `symcnn summary` uses it), sorted by depth (layer calls). "
        "*first* is the first `analyze` after `import symcnn` (what a user waits for), *warm* the best of three "
        "more on newly built models. The output size is the height of the last feature map that depends on H, "
        "with its `sympy.count_ops`; MACs gives `count_ops` and the number of distinct products of the "
        "collected closed form. *One more size* is the cost of evaluating the lambdified MACs at another "
        "input size: a scalar call, and per size within a vectorised batch of 10^5.", "",
        *_table(["model", "layer calls", "analyse (first)", "analyse (warm)", "output size (ops)", "MACs closed form",
                 "one more size", "vectorised"], rows),
    ]
    if _scale_points(res):
        lines += [f"![Analysis time against depth, every zoo model (log scale)]({_SCALE_SVG})", ""]
    r50 = sc.get("resnet50", {}).get("macs", {})
    if r50.get("expr"):
        lines += ["The resnet50 MACs closed form (symbolic in H and W):", "", "```text", _math(r50["expr"]), "```", ""]
    return lines


def _others(res: dict) -> list[str]:
    o, rows = res.get("others", {}), []
    d = o.get("derive")
    if d:
        rows.append([f"`derive.all()`: {d['count']} derivations, all verified: {d['verified']}", _sec(d["seconds"])])
    s = o.get("solver")
    if s:
        rows.append([f"`{s['what']}`", _sec(s["seconds"])])
    c = o.get("cli")
    if c:
        rows.append([f"`{c['command']}` in a subprocess: first run / median of 3", f"{_sec(c['first_s'])} / "
                     f"{_sec(c['median_s'])}"])
    site = o.get("site", {})
    if "seconds" in site:
        ok = "" if site.get("returncode") == 0 else f" (failed, exit {site.get('returncode')})"
        rows.append([f"site build, `{site['command']}`{ok}", _sec(site["seconds"])])
    elif site:
        rows.append(["site build", "not measured: " + site.get("error", "")])
    e = res.get("engine", {})
    if e:
        rows.append(["`analyze(vgg16, (3, H, W))` after import: first call / best of 5",
                     f"{_sec(e['analyze_vgg16_first_s'])} / {_sec(e['analyze_vgg16_warm_min_s'])}"])
        rows.append(["vgg16 MACs at 10^6 input sizes (lambdified, vectorised)", _sec(e["eval_1e6_sizes_s"])])
    many, fwd = res.get("many", {}), res.get("forward", {})
    if many and "error" not in many:
        rows.append([f"resnet50 MACs at {many['sizes'][2]} input sizes, fresh process (wall)", _sec(many["wall_s"])])
    if fwd and "error" not in fwd:
        rows.append(["one torch forward pass of resnet50 at 224: first / warm median",
                     f"{_sec(fwd['first_s'])} / {_sec(fwd['warm_median_s'])}"])
    return _table(["what", "time"], rows) if rows else ["Nothing recorded.", ""]


def _markdown(res: dict, with_svg: bool) -> str:
    lines = ["# Benchmarks", "",
             "symcnn against the tools users would otherwise pick (fvcore, ptflops, torchinfo), and the "
             "performance targets of the issues. Generated from `bench/results.json`, written by "
             "`python bench/run.py`.", "", *_machine(res),
             "## Targets", "", *_targets(res),
             "## Sweep: symcnn against fvcore, ptflops and torchinfo", "", *_sweep(res),
             "## Agreement", "",
             "Where `symcnn.count(model, shape, convention=tool)` was available, each tool's total is compared "
             "with it; otherwise only where the conventions coincide (fvcore's conv + linear counts are exactly "
             "symcnn's MACs), and the other totals are not compared, because they add bias, batch-norm or "
             "activation terms that symcnn's MACs leave out.", "", *_agreement(res),
             "## Scale: every zoo model", "", *_scale(res),
             "## Derivations, solver, command line, site", "", *_others(res)]
    text = "\n".join(lines).rstrip() + "\n"
    return text if with_svg else text.replace(f"![Time to get MACs for n input sizes, per tool (log scale)]({_SVG})"
                                              "\n\n", "")


# --- the plot -----------------------------------------------------------------------------------------------------
def _cumulative(r: dict, tool: str) -> list[float]:
    """Seconds until the first n sizes are known (n = 1..), from the process's fixed cost and per-size times."""
    per = r.get("per_size_s", [])
    total = r["wall_s"] if tool == "symcnn" else r.get("tool_s", r["wall_s"])
    fixed = total - sum(per)
    out, acc = [], fixed
    for p in per:
        acc += p
        out.append(acc)
    return out


def _svg(res: dict) -> str | None:
    panels = [(name, row) for name, row in res.get("sweep", {}).items()
              if "error" not in row and "error" not in row.get("symcnn", {"error": 1})]
    if not panels:
        return None
    series = {name: {t: _cumulative(row[t], t) for t in ("symcnn", *TOOLS) if t in row and "error" not in row[t]}
              for name, row in panels}
    values = [v for s in series.values() for ys in s.values() for v in ys if v > 0]
    lo = math.floor(math.log10(min(values)))
    hi = math.ceil(math.log10(max(values)))
    hi = max(hi, lo + 1)
    pw, ph, left, top, gap = 260, 200, 50, 30, 30
    width, height = left + len(panels) * (pw + gap), top + ph + 80
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']

    def y_of(v: float) -> float:
        return top + ph - (math.log10(v) - lo) / (hi - lo) * ph

    for k, (name, _) in enumerate(panels):
        x0 = left + k * (pw + gap)
        n = max(len(ys) for ys in series[name].values())

        def x_of(i: int, x0=x0, n=n) -> float:
            return x0 + (i / max(n - 1, 1)) * pw

        out.append(f'<text x="{x0 + pw / 2}" y="{top - 10}" text-anchor="middle" font-weight="bold">'
                   f'{escape(name)}</text>')
        out.append(f'<rect x="{x0}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
        for e in range(lo, hi + 1):
            y = y_of(10.0**e)
            out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + pw}" y2="{y:.1f}" stroke="#ddd"/>')
            if k == 0:
                out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{_sec(10.0**e)}</text>')
        for i in range(n):
            if i == 0 or (i + 1) % 4 == 0 or i == n - 1:
                out.append(f'<text x="{x_of(i):.1f}" y="{top + ph + 14}" text-anchor="middle">{i + 1}</text>')
        out.append(f'<text x="{x0 + pw / 2}" y="{top + ph + 30}" text-anchor="middle">number of input sizes</text>')
        for tool, ys in series[name].items():
            pts = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in enumerate(ys) if v > 0)
            out.append(f'<polyline points="{pts}" fill="none" stroke="{_COLORS[tool]}" stroke-width="2"/>')
    lx = left
    for tool, color in _COLORS.items():
        out.append(f'<line x1="{lx}" y1="{height - 18}" x2="{lx + 20}" y2="{height - 18}" stroke="{color}" '
                   'stroke-width="2"/>')
        out.append(f'<text x="{lx + 24}" y="{height - 14}">{tool}</text>')
        lx += 100
    out.append(f'<text x="{width - 4}" y="{height - 14}" text-anchor="end" fill="#555">seconds until MACs are '
               'known, log scale</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _scale_points(res: dict) -> list[tuple[str, int, float, float]]:
    return [(name, r["layers"], r["analyze_first_s"], r["analyze_warm_min_s"])
            for name, r in res.get("scale", {}).items()
            if "error" not in r and r.get("analyze_first_s", 0) > 0 and r.get("analyze_warm_min_s", 0) > 0]


def _scale_svg(res: dict) -> str | None:
    """Analysis time (first call and warm) against the number of layer calls, one dot per zoo model."""
    pts = _scale_points(res)
    if not pts:
        return None
    lo = math.floor(math.log10(min(min(p[2], p[3]) for p in pts)))
    hi = max(math.ceil(math.log10(max(p[2] for p in pts))), lo + 1)
    xmax = max(p[1] for p in pts)
    xmax = 100 * math.ceil(xmax / 100)
    pw, ph, left, top = 520, 240, 60, 20
    width, height = left + pw + 150, top + ph + 70
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>']

    def xy(n: int, t: float) -> tuple[float, float]:
        return left + n / xmax * pw, top + ph - (math.log10(t) - lo) / (hi - lo) * ph

    for e in range(lo, hi + 1):
        _, y = xy(0, 10.0**e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_sec(10.0**e)}</text>')
    for n in range(0, xmax + 1, 100):
        x, _ = xy(n, 10.0**lo)
        out.append(f'<text x="{x:.1f}" y="{top + ph + 14}" text-anchor="middle">{n}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 32}" text-anchor="middle">layer calls (depth)</text>')
    slowest = sorted(pts, key=lambda p: -p[2])[:4]
    labels: list[tuple[float, float]] = []
    for name, n, first, warm in pts:
        x, y1 = xy(n, first)
        _, y2 = xy(n, warm)
        out.append(f'<circle cx="{x:.1f}" cy="{y1:.1f}" r="4" fill="#d62728"><title>{escape(name)}: first '
                   f'{_sec(first)}</title></circle>')
        out.append(f'<circle cx="{x:.1f}" cy="{y2:.1f}" r="3" fill="none" stroke="#1f77b4"><title>{escape(name)}: '
                   f'warm {_sec(warm)}</title></circle>')
        if (name, n, first, warm) in slowest or n == max(p[1] for p in pts):
            ly = y1 - 4
            while any(abs(ly - b) < 12 and abs(x - a) < 90 for a, b in labels):  # no label over another
                ly -= 12
            labels.append((x, ly))
            out.append(f'<text x="{x + 6:.1f}" y="{ly:.1f}">{escape(name)}</text>')
    lx, ly = left + pw + 15, top + 20
    out.append(f'<circle cx="{lx}" cy="{ly}" r="4" fill="#d62728"/>'
               f'<text x="{lx + 8}" y="{ly + 4}">first analyse</text>')
    out.append(f'<circle cx="{lx}" cy="{ly + 20}" r="3" fill="none" stroke="#1f77b4"/>'
               f'<text x="{lx + 8}" y="{ly + 24}">warm (best of 3)</text>')
    out.append(f'<text x="{left + pw}" y="{height - 8}" text-anchor="end" fill="#555">analysis time of symbolic '
               '(3, H, W), log scale</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render(results: dict | None = None) -> dict[str, str]:
    """The benchmarks page (and its plot) from ``results`` or, by default, the recorded ``bench/results.json``.

    Returns ``{PAGE: markdown, PLOT: svg}``, paths relative to ``docs/``; the plot only when a sweep was recorded.
    """
    if results is None:
        results = load()
    if results is None:
        return {PAGE: "# Benchmarks\n\nNo benchmark results were recorded: `bench/results.json` does not "
                                 "exist. Run `python bench/run.py` to measure them.\n"}
    svg = _svg(results)
    pages = {PAGE: _markdown(results, svg is not None)}
    if svg is not None:
        pages[PLOT] = svg
    scale_svg = _scale_svg(results)
    if scale_svg is not None:
        pages[SCALE_PLOT] = scale_svg
    return pages
