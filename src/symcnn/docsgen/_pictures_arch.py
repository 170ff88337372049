"""One architecture figure per model family, drawn from the engine's graph: every layer call that changes the
tensor (convolutions, pools, linear layers, merges) is a box with its output shape as the engine derives it
(symbolic in H, W); activations, normalisation and dropout are folded into the box before them. Edges are the
graph's inputs: residual adds, concatenations of branches, crop-and-concat bridges and gates show as they are.
Consecutive blocks of the same structure are drawn once with "×n".

>>> fig = architecture_graph("resnet50")
>>> [n.label for n in fig.nodes][:3]
['input', 'conv1', 'maxpool']
>>> [(g.title, g.repeat) for g in fig.groups if g.repeat > 1][0]
('layer1.1 – layer1.2', 2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

from ..present import number, pretty
from ._models import model_input

__all__ = ["FAMILIES", "ArchNode", "ArchGroup", "ArchFigure", "architecture_graph", "architecture_svg"]

#: family -> the zoo model drawn for it
FAMILIES = {
    "LeNet-5": "lenet5", "AlexNet": "alexnet", "VGG": "vgg16", "GoogLeNet": "googlenet", "ResNet": "resnet50",
    "DenseNet": "densenet121", "SqueezeNet": "squeezenet1_0", "MobileNetV2": "mobilenet_v2", "U-Net": "unet",
    "DCGAN": "dcgan_generator",
}

_CONTAINERS = {"features", "classifier", "main"}
_KEEP = ("Conv", "Linear", "Pool", "Adaptive", "Flatten", "Upsample", "Crop")
_MERGES = {"Add": "⊕ add", "Concat": "concat", "CropConcat": "crop & concat", "Mul": "⊗ gate"}
_EDGE_WORD = {"Add": "identity", "Concat": "copy", "CropConcat": "crop & copy", "Mul": "gate"}


@dataclass
class ArchNode:
    """A drawn box: ``index`` is the engine's layer index (-1: the input), ``records`` every layer index it
    stands for (one per repeat), ``shape`` the output shape of the last of them."""

    index: int
    label: str
    kind: str
    spec: str
    shape: tuple
    records: list[int] = field(default_factory=list)
    group: int = 0
    row: int = 0
    col: int = 0


@dataclass
class ArchGroup:
    """A block of the network (``layer1.0``, ``inception3a``, ``down2``): its drawn nodes, how many consecutive
    blocks of the same structure it stands for, and the title naming them."""

    title: str
    nodes: list[int]
    repeat: int = 1


@dataclass
class ArchFigure:
    model: str
    input_shape: tuple
    nodes: list[ArchNode]
    groups: list[ArchGroup]
    edges: list[tuple[int, int]]  # (source node position, target node position)


def _key(name: str) -> str:
    parts = name.split(".")
    depth = 2 if (parts[0] in _CONTAINERS or re.fullmatch(r"layer\d+", parts[0])) else 1
    if len(parts) > 2 and parts[1].startswith("denseblock"):
        depth = 3
    return ".".join(parts[:depth])


def _pair(v) -> str:
    v = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    return "×".join(str(x) for x in v) if len(set(v)) > 1 else str(v[0]) + ("×" + str(v[0])) * (len(v) - 1)


def _spec(record) -> str:
    layer, kind = record.layer, record.kind
    if kind in _MERGES:
        return _MERGES[kind]
    d = getattr(layer, "__dict__", {})
    text = kind
    if "kernel_size" in d:
        text += " " + _pair(d["kernel_size"])
    stride = d.get("stride")
    if stride is not None and any(int(s) != 1 for s in (stride if isinstance(stride, tuple) else (stride,))):
        st = tuple(stride) if isinstance(stride, tuple) else (stride,)
        text += ", stride " + (str(st[0]) if len(set(st)) == 1 else _pair(st))
    groups = d.get("groups", 1)
    if isinstance(groups, int) and groups > 1:
        text += ", depthwise" if groups == d.get("in_channels") == d.get("out_channels") else f", groups {groups}"
    if "output_size" in d:
        text += " → " + _pair(d["output_size"])
    return text


def _passthrough(record) -> bool:
    return (len(record.inputs) == 1 and record.kind not in _MERGES and not any(k in record.kind for k in _KEEP)
            and tuple(record.output_shape) == tuple(record.input_shape))


def architecture_graph(model_name: str) -> ArchFigure:
    """The figure's graph for a zoo model, from the engine's layer records and their inputs."""
    _, sym, num, _ = model_input(model_name)
    a = sym if sym is not None else num
    rep: dict[int, int] = {-1: -1}
    kept = []  # (record, mapped inputs)
    for r in a.layers:
        ins = tuple(dict.fromkeys(rep[i] for i in r.inputs))
        if _passthrough(r):
            rep[r.index] = ins[0]
            continue
        rep[r.index] = r.index
        kept.append((r, ins))
    # blocks by module prefix; a merge whose prefix is a sibling of the current block (DenseNet's cat) joins it
    blocks: list[tuple[str, list]] = []
    for r, ins in kept:
        k = _key(r.name)
        if blocks and (blocks[-1][0] == k or (r.kind in _MERGES and k.rpartition(".")[0]
                                               and k.rpartition(".")[0] == blocks[-1][0].rpartition(".")[0])):
            blocks[-1][1].append((r, ins))
        else:
            blocks.append((k, [(r, ins)]))

    def signature(items):
        pos = {r.index: j for j, (r, _) in enumerate(items)}
        sig = []
        for r, ins in items:
            refs = tuple(sorted({str(pos[i]) if i in pos else "ext" for i in ins}))
            chans = None if r.kind in _MERGES else str(r.output_shape[0])
            sig.append((r.kind, _spec(r), chans, refs))
        return tuple(sig)

    runs: list[list[tuple[str, list]]] = []
    for b in blocks:
        if runs and len(b[1]) > 1 and signature(runs[-1][0][1]) == signature(b[1]):
            runs[-1].append(b)
        else:
            runs.append([b])

    nodes = [ArchNode(-1, "input", "Input", "", tuple(a.input_shape), [-1])]
    groups: list[ArchGroup] = []
    draw: dict[int, int] = {-1: 0}  # engine index -> node position
    for run in runs:
        first, last = run[0][1], run[-1][1]
        g = len(groups)
        key0, key1 = run[0][0], run[-1][0]
        title = key0 if len(run) == 1 else f"{key0} – {key1.rpartition('.')[2] if '.' in key1 else key1}"
        if len(run) > 1 and "." in key1 and key0.rpartition(".")[0] == key1.rpartition(".")[0]:
            title = f"{key0} – {key1[len(key0.rpartition('.')[0]) + 1:] if key0.count('.') > 1 else key1}"
        members = []
        for j, (r, _) in enumerate(first):
            single = len(first) == 1 and len(run) == 1
            label = r.name if single else (r.name[len(key0) + 1:] if r.name.startswith(key0 + ".") else r.name)
            node = ArchNode(r.index, label, r.kind, _spec(r), tuple(last[j][0].output_shape),
                            [blk[1][j][0].index for blk in run], group=g)
            members.append(len(nodes))
            for blk in run:
                draw[blk[1][j][0].index] = len(nodes)
            nodes.append(node)
        groups.append(ArchGroup(title, members, len(run)))
    groups.insert(0, ArchGroup("input", [0]))
    for n in nodes[1:]:
        n.group += 1
    edges: list[tuple[int, int]] = []
    run_of = {}
    for gi, gr in enumerate(groups):
        for m in gr.nodes:
            run_of[m] = gi
    first_instance = {n.records[0] for n in nodes}
    for r, ins in kept:
        dst = draw[r.index]
        for i in ins:
            src = draw[i]
            same = run_of[src] == run_of[dst]
            if src >= dst or (same and r.index not in first_instance) or (src, dst) in edges:
                continue
            edges.append((src, dst))
    fig = ArchFigure(model_name, tuple(a.input_shape), nodes, groups, edges)
    _layout(fig)
    return fig


def _layout(fig: ArchFigure) -> None:
    """Rows: groups one after another, inside a group the longest path from the group's entry. Columns: a node
    keeps the column of its first input when free (branches side by side, a spine straight down)."""
    row = 0
    incoming: dict[int, list[int]] = {}
    for s, d in fig.edges:
        incoming.setdefault(d, []).append(s)
    for g in fig.groups:
        local = {}
        for m in g.nodes:
            ins = [s for s in incoming.get(m, []) if s in local]
            local[m] = 1 + max((local[s] for s in ins), default=-1)
        taken: set[tuple[int, int]] = set()
        for m in g.nodes:
            n = fig.nodes[m]
            n.row = row + local[m]
            ins = incoming.get(m, [])
            col = fig.nodes[ins[0]].col if ins and fig.nodes[ins[0]].group == n.group else 0
            while (n.row, col) in taken:
                col += 1
            taken.add((n.row, col))
            n.col = col
        row += 1 + max(local.values())


def _shape_text(shape: tuple) -> str:
    return " × ".join(number(s) if _count(s) is not None else pretty(s, unicode=True) for s in shape)


def _count(x) -> int | None:
    return int(x) if isinstance(x, int) or getattr(x, "is_Integer", False) else None


_CH = 6.6  # width of a character at font-size 12 (sans-serif, generous)
_BOX_H, _GAP, _HEAD, _LANE = 36, 20, 20, 20


def _colour(kind: str) -> str:
    if "ConvTranspose" in kind or "Upsample" in kind:
        return "#f4c7a1"
    if "Conv" in kind:
        return "#a9c9e8"
    if "Pool" in kind:
        return "#c9e3b5"
    if "Linear" in kind:
        return "#e3c6ec"
    if kind in _MERGES:
        return "#ffe69a"
    return "#e2e2e2"


def architecture_svg(model_name: str, family: str = "", ident: str = "") -> str:
    """Inline SVG of :func:`architecture_graph`: each box a ``<g class="symcnn-node" data-index=..
    data-shape=..>``, each edge a ``<path class="symcnn-edge" data-from=.. data-to=..>`` (engine indices),
    each block a ``<g class="symcnn-group" data-repeat=..>``. Drawn at its natural size (the page scrolls it
    sideways on narrow screens)."""
    fig = architecture_graph(model_name)
    nodes = fig.nodes
    lines = [(n.spec if n.kind in _MERGES and n.label.rpartition(".")[2].rstrip("0123456789") in n.spec
              else (n.label + " · " + n.spec) if n.spec else n.label, _shape_text(n.shape)) for n in nodes]
    ncol = 1 + max(n.col for n in nodes)
    colw = [0.0] * ncol
    for n, (l1, l2) in zip(nodes, lines, strict=True):
        colw[n.col] = max(colw[n.col], 16 + _CH * max(len(l1), len(l2)))
    left, top = 18, 56
    colx = [left + sum(colw[:c]) + 14 * c for c in range(ncol)]
    group_top: dict[int, float] = {}
    y_of_row: dict[int, float] = {}
    y = top
    for gi, g in enumerate(fig.groups):
        rows = sorted({nodes[m].row for m in g.nodes})
        titled = len(g.nodes) > 1 or g.repeat > 1
        group_top[gi] = y
        y += _HEAD if titled else 4
        for r in rows:
            y_of_row[r] = y
            y += _BOX_H + _GAP
        y += 4
    height = int(y + 4)
    right = colx[-1] + colw[-1]

    def box(m):
        n = nodes[m]
        return colx[n.col], y_of_row[n.row], colw[n.col] - 0, _BOX_H

    # edges: adjacent rows or a free column go straight; the rest take a lane on the right
    straight, laned = [], []
    for s, d in fig.edges:
        ns, nd = nodes[s], nodes[d]
        between = [r for r in y_of_row if ns.row < r < nd.row]
        blocked = any(n.col == ns.col and n.row in between for n in nodes)
        (laned if blocked else straight).append((s, d))
    lanes: list[list[tuple[int, int]]] = []
    lane_of = {}
    for s, d in sorted(laned, key=lambda e: (nodes[e[1]].row - nodes[e[0]].row, nodes[e[0]].row)):
        span = (nodes[s].row, nodes[d].row)
        for k, used in enumerate(lanes):
            if all(span[1] <= u[0] or span[0] >= u[1] for u in used):
                used.append(span)
                lane_of[(s, d)] = k
                break
        else:
            lanes.append([span])
            lane_of[(s, d)] = len(lanes) - 1
    head = f"{family or model_name} ({model_name})"
    sub = "boxes: layers that change the tensor, with output shape; activations and normalisation folded in"
    width = int(max(right + 16 + _LANE * len(lanes) + 14, len(sub) * 6.4 + 20, len(head) * 9 + 20))
    ident = escape(ident or f"arch-{model_name}")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="symcnn-pic symcnn-arch" id="{ident}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(head)}: {len(nodes)} boxes, '
           f'{len(fig.edges)} edges" font-family="sans-serif" font-size="12" '
           f'style="width:{width}px;min-width:{width}px;height:auto">',
           f'<defs><marker id="{ident}-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#33475b"/></marker></defs>',
           f'<text x="10" y="20" font-weight="bold" font-size="15">{escape(head)}</text>',
           f'<text x="10" y="42" fill="#333">{escape(sub)}</text>']
    for gi, g in enumerate(fig.groups):
        if not (len(g.nodes) > 1 or g.repeat > 1):
            continue
        rows = [nodes[m].row for m in g.nodes]
        y0, y1 = group_top[gi], y_of_row[max(rows)] + _BOX_H + 6
        cols = [nodes[m].col for m in g.nodes]
        x1 = max(colx[max(cols)] + colw[max(cols)] + 6, left + 6.8 * (len(g.title) + 4))
        dash = ' stroke-dasharray="5 3"' if g.repeat > 1 else ""
        times = f"  ×{g.repeat}" if g.repeat > 1 else ""
        out.append(f'<g class="symcnn-group" data-title="{escape(g.title)}" data-repeat="{g.repeat}">'
                   f'<rect x="{left - 8}" y="{y0:.0f}" width="{x1 - left + 8:.0f}" height="{y1 - y0:.0f}" rx="5" '
                   f'fill="#f5f7fa" stroke="#9aa8b6"{dash}/>'
                   f'<text x="{left - 2}" y="{y0 + 14:.0f}" font-size="11.5" font-weight="bold" fill="#33475b">'
                   f'{escape(g.title)}<tspan fill="#b3261e">{escape(times)}</tspan></text></g>')
    for s, d in fig.edges:
        (sx, sy, sw, sh), (dx, dy, dw, dh) = box(s), box(d)
        a, b = sx + sw / 2, dx + dw / 2
        if (s, d) in lane_of:
            ns, nd = nodes[s], nodes[d]
            spanned = [n for n in nodes if ns.row <= n.row <= nd.row]
            lx = max(colx[n.col] + colw[n.col] for n in spanned) + 16 + _LANE * lane_of[(s, d)]
            if any(n.row == ns.row and n.col > ns.col for n in nodes):  # leave through the gap below
                ya = sy + sh + _GAP / 2 - 2
                path = f"M{a:.1f},{sy + sh} V{ya:.1f} H{lx:.1f}"
            else:  # leave from the right side
                ya = sy + sh / 2
                path = f"M{sx + sw:.1f},{ya:.1f} H{lx:.1f}"
            if any(n.row == nd.row and n.col > nd.col for n in nodes):
                yb = dy - _GAP / 2 + 2
                path += f" V{yb:.1f} H{b:.1f} V{dy - 1}"
            else:
                yb = dy + dh / 2
                path += f" V{yb:.1f} H{dx + dw + 1:.1f}"
            word = _EDGE_WORD.get(nodes[d].kind, "")
            mid = f"{lx + 4:.1f} {(ya + yb) / 2:.1f}"
            label = (f'<text x="{lx + 4:.1f}" y="{(ya + yb) / 2:.1f}" font-size="11" fill="#8a4b08" '
                     f'transform="rotate(90 {mid})" text-anchor="middle">{escape(word)}</text>'
                     if word and yb - ya > len(word) * 6.5 else "")
        elif nodes[d].row - nodes[s].row == 1 or a == b:
            path, label = f"M{a:.1f},{sy + sh} L{b:.1f},{dy - 1}", ""
        else:
            path, label = f"M{a:.1f},{sy + sh} V{dy - _GAP / 2:.1f} L{b:.1f},{dy - 1}", ""
        out.append(f'<path class="symcnn-edge" data-from="{nodes[s].index}" data-to="{nodes[d].index}" d="{path}" '
                   f'fill="none" stroke="{"#8a4b08" if label or (s, d) in lane_of else "#33475b"}" '
                   f'stroke-width="1.4" marker-end="url(#{ident}-arrow)"/>{label}')
    for m, (n, (l1, l2)) in enumerate(zip(nodes, lines, strict=True)):
        x, y, w, h = box(m)
        out.append(f'<g class="symcnn-node" data-index="{n.index}" data-records="{" ".join(map(str, n.records))}" '
                   f'data-shape="{escape(l2)}"><rect x="{x}" y="{y:.0f}" width="{w:.0f}" height="{h}" rx="4" '
                   f'fill="{_colour(n.kind)}" stroke="#33475b"/>'
                   f'<text x="{x + 8}" y="{y + 15:.0f}" font-weight="bold">{escape(l1)}</text>'
                   f'<text x="{x + 8}" y="{y + 30:.0f}">{escape(l2)}</text></g>')
    out.append("</svg>")
    return "\n".join(out)
