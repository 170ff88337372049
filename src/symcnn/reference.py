"""Brute-force reference: layers computed by enumerating sliding windows, independent of every formula.

Nothing here uses a closed-form output size: sizes are however many window positions the enumeration
finds. The tests compare the engine's formulas against these functions (with Hypothesis), and these
functions against PyTorch where it is installed.

>>> import numpy as np
>>> out, macs = conv(np.ones((1, 5, 5)), np.ones((1, 1, 3, 3)))   # VALID: 5x5 with 3x3 -> 3x3
>>> out.shape, macs
((1, 3, 3), 81)
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np

__all__ = [
    "InvalidConfig",
    "windows_1d",
    "conv",
    "conv_transpose",
    "pool",
    "adaptive_pool",
    "receptive_field_1d",
    "upsample_reads",
    "window_reads",
    "transposed_reads",
    "dependencies_1d",
    "torch_refuses_pool_padding",
    "torch_refuses_output_padding",
]


class InvalidConfig(ValueError):
    """The configuration has no output (no window position) or nonsensical arguments."""


def _per_axis(value, n: int, name: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise InvalidConfig(f"{name} needs {n} entries")
        return tuple(value)
    return (value,) * n


def _pads(padding, n: int) -> tuple[tuple[int, int], ...]:
    out = []
    for p in _per_axis(padding, n, "padding"):
        pair = tuple(p) if isinstance(p, (tuple, list)) else (p, p)
        if min(pair) < 0:
            raise InvalidConfig("negative padding")
        out.append(pair)
    return tuple(out)


def windows_1d(size: int, kernel: int, stride: int, padding_left: int = 0, padding_right: int | None = None,
               dilation: int = 1, ceil_mode: bool = False) -> list[int]:
    """Start positions (in input coordinates, negative inside the left padding) of the windows along one axis.

    A window starting at ``t`` reads ``t, t + dilation, ..., t + dilation*(kernel - 1)``. Windows start at
    ``-padding_left + k*stride``. Floor mode takes every window lying inside the padded input. ``ceil_mode``
    (PyTorch) also lets a window hang over the end of the padded input by less than one stride, but never
    one that starts in the right padding.

    >>> windows_1d(5, 2, 2, 1, ceil_mode=True)    # starts -1, 1, 3; a 4th would start in the right padding
    [-1, 1, 3]
    """
    padding_right = padding_left if padding_right is None else padding_right
    if kernel < 1 or stride < 1 or dilation < 1:
        raise InvalidConfig("kernel, stride and dilation must be >= 1")
    last = dilation * (kernel - 1)  # offset of the last tap
    end = size + padding_right  # one past the last padded position
    overhang_allowed = stride - 1 if ceil_mode else 0
    starts = []
    t = -padding_left
    while t + last + 1 - end <= overhang_allowed:
        if ceil_mode and t >= size:
            break
        starts.append(t)
        t += stride
    return starts


def conv(x: np.ndarray, weight: np.ndarray, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct convolution (cross-correlation, as PyTorch). Returns ``(output, macs)``; ``macs`` counts the
    multiply-accumulates the loops execute (padded zeros included, bias excluded).

    ``x`` is ``(C_in, *spatial)``, ``weight`` ``(C_out, C_in/groups, *kernel)``; ``padding`` an int, a
    per-axis tuple or per-axis ``(left, right)`` pairs.
    """
    n = x.ndim - 1
    cout, cin_g = weight.shape[:2]
    kernel = weight.shape[2:]
    if groups < 1 or x.shape[0] % groups or cout % groups or cin_g * groups != x.shape[0]:
        raise InvalidConfig("channels do not match groups")
    stride, dilation = _per_axis(stride, n, "stride"), _per_axis(dilation, n, "dilation")
    pads = _pads(padding, n)
    starts = [windows_1d(x.shape[1 + a], kernel[a], stride[a], *pads[a], dilation[a]) for a in range(n)]
    if any(not s for s in starts):
        raise InvalidConfig("no window position fits")
    padded = np.zeros((x.shape[0], *(x.shape[1 + a] + sum(pads[a]) for a in range(n))), dtype=float)
    padded[(slice(None), *(slice(pads[a][0], pads[a][0] + x.shape[1 + a]) for a in range(n)))] = x
    out = np.zeros((cout, *(len(s) for s in starts)))
    macs = 0
    per_group = cout // groups
    for o in range(cout):
        g = o // per_group
        for pos in itertools.product(*(range(len(s)) for s in starts)):
            acc = 0.0
            for ci in range(cin_g):
                for tap in itertools.product(*(range(k) for k in kernel)):
                    idx = tuple(starts[a][pos[a]] + pads[a][0] + tap[a] * dilation[a] for a in range(n))
                    acc += padded[(g * cin_g + ci, *idx)] * weight[(o, ci, *tap)]
                    macs += 1
            out[(o, *pos)] = acc + (0.0 if bias is None else bias[o])
    return out, macs


def conv_transpose(x: np.ndarray, weight: np.ndarray, bias=None, stride=1, padding=0, output_padding=0,
                   dilation=1, groups=1):
    """Transposed convolution as the adjoint of a convolution, by scatter. Returns ``(output, macs)``.

    Every input pixel ``i`` and tap ``t`` add ``x[i]*w[t]`` at ``i*stride + t*dilation`` of the full output,
    whose last position is the furthest any product reaches, plus ``output_padding`` zero positions; then
    ``padding`` positions are cropped from both ends. ``weight`` is ``(C_in, C_out/groups, *kernel)``.

    >>> out, _ = conv_transpose(np.ones((1, 3, 3)), np.ones((1, 1, 3, 3)), stride=2, padding=1)
    >>> out[0].astype(int).tolist()[0:2]
    [[1, 2, 1, 2, 1], [2, 4, 2, 4, 2]]
    """
    n = x.ndim - 1
    cin, cout_g = weight.shape[:2]
    kernel = weight.shape[2:]
    if groups < 1 or cin != x.shape[0] or cin % groups:
        raise InvalidConfig("channels do not match groups")
    stride, dilation = _per_axis(stride, n, "stride"), _per_axis(dilation, n, "dilation")
    output_padding = _per_axis(output_padding, n, "output_padding")
    pads = _pads(padding, n)
    if min(stride) < 1 or min(dilation) < 1 or min(output_padding) < 0:
        raise InvalidConfig("bad stride, dilation or output_padding")
    full = []
    for a in range(n):
        reach = max(i * stride[a] + t * dilation[a] for i in range(x.shape[1 + a]) for t in range(kernel[a]))
        full.append(reach + 1 + output_padding[a])
    cout = cout_g * groups
    buf = np.zeros((cout, *full))
    macs = 0
    per_group = cin // groups
    for ci in range(cin):
        g = ci // per_group
        for pos in itertools.product(*(range(s) for s in x.shape[1:])):
            for co in range(cout_g):
                for tap in itertools.product(*(range(k) for k in kernel)):
                    idx = tuple(pos[a] * stride[a] + tap[a] * dilation[a] for a in range(n))
                    buf[(g * cout_g + co, *idx)] += x[(ci, *pos)] * weight[(ci, co, *tap)]
                    macs += 1
    sizes = [full[a] - pads[a][0] - pads[a][1] for a in range(n)]
    if min(sizes) < 1:
        raise InvalidConfig("padding crops the whole output")
    out = buf[(slice(None), *(slice(pads[a][0], pads[a][0] + sizes[a]) for a in range(n)))].copy()
    if bias is not None:
        out += np.asarray(bias).reshape((cout,) + (1,) * n)
    return out, macs


def pool(x: np.ndarray, kind: str, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
         count_include_pad=True) -> np.ndarray:
    """Max or average pooling over the windows of :func:`windows_1d`.

    Max pooling ignores padding; average pooling divides by the taps inside the padded input
    (``count_include_pad``) or inside the real input.
    """
    n = x.ndim - 1
    kernel = _per_axis(kernel_size, n, "kernel_size")
    stride = kernel if stride is None else _per_axis(stride, n, "stride")
    dilation = _per_axis(dilation, n, "dilation")
    pads = _pads(padding, n)
    if kind == "avg" and set(dilation) != {1}:
        raise InvalidConfig("average pooling has no dilation")
    starts = [windows_1d(x.shape[1 + a], kernel[a], stride[a], *pads[a], dilation[a], ceil_mode) for a in range(n)]
    if any(not s for s in starts):
        raise InvalidConfig("no window position fits")
    out = np.zeros((x.shape[0], *(len(s) for s in starts)))
    for c in range(x.shape[0]):
        for pos in itertools.product(*(range(len(s)) for s in starts)):
            values, in_padded = [], 0
            for tap in itertools.product(*(range(k) for k in kernel)):
                idx = tuple(starts[a][pos[a]] + tap[a] * dilation[a] for a in range(n))
                if all(-pads[a][0] <= idx[a] < x.shape[1 + a] + pads[a][1] for a in range(n)):
                    in_padded += 1
                if all(0 <= idx[a] < x.shape[1 + a] for a in range(n)):
                    values.append(x[(c, *idx)])
            if kind == "max":
                out[(c, *pos)] = max(values) if values else -np.inf
            else:
                divisor = in_padded if count_include_pad else len(values)
                out[(c, *pos)] = sum(values) / divisor
    return out


def adaptive_pool(x: np.ndarray, kind: str, output_size) -> np.ndarray:
    """Adaptive pooling: output ``i`` of an axis pools input ``[floor(i*In/Out), ceil((i+1)*In/Out))``
    (PyTorch's AdaptivePooling.h); ``None`` keeps an axis."""
    n = x.ndim - 1
    sizes = [x.shape[1 + a] if o is None else o for a, o in enumerate(_per_axis(output_size, n, "output_size"))]
    bounds = [[((i * x.shape[1 + a]) // sizes[a], -((-(i + 1) * x.shape[1 + a]) // sizes[a])) for i in range(sizes[a])]
              for a in range(n)]
    out = np.zeros((x.shape[0], *sizes))
    for c in range(x.shape[0]):
        for pos in itertools.product(*(range(s) for s in sizes)):
            block = x[(c, *(slice(*bounds[a][pos[a]]) for a in range(n)))]
            out[(c, *pos)] = block.max() if kind == "max" else block.mean()
    return out


def receptive_field_1d(size: int, layers: list[dict]) -> tuple[int, int, float]:
    """Receptive field of a 1-D stack of windowed layers, by following which inputs each output reads.

    ``layers`` are dicts with ``kernel``, ``stride``, ``padding`` (left = right) and ``dilation``. Returns
    ``(size, jump, centre)``: the extent (max - min + 1) of the input positions output 0 depends on, the
    distance between the first dependencies of outputs 0 and 1 (needs two outputs), and the centre of output
    0's extent. Positions may be negative or beyond the input (they lie in padding).

    >>> receptive_field_1d(32, [dict(kernel=3, stride=2), dict(kernel=3, stride=1)])
    (7, 2, 3.0)
    """
    sizes = [size]
    all_starts = []
    for layer in layers:
        st = windows_1d(sizes[-1], layer["kernel"], layer.get("stride", 1), layer.get("padding", 0),
                        dilation=layer.get("dilation", 1))
        if not st:
            raise InvalidConfig("no window position fits")
        all_starts.append(st)
        sizes.append(len(st))

    def deps(out_index: int) -> set[int]:
        current = {out_index}
        for layer, st in zip(reversed(layers), reversed(all_starts), strict=True):
            d, step = layer.get("dilation", 1), layer.get("stride", 1)
            # positions in the padding have no windows of their own; extend the grid of starts through it
            current = {st[0] + o * step + t * d for o in current for t in range(layer["kernel"])}
        return current

    d0 = deps(0)
    jump = min(deps(1)) - min(d0) if sizes[-1] > 1 else 0
    return max(d0) - min(d0) + 1, jump, (max(d0) + min(d0)) / 2


def torch_refuses_pool_padding(kernel: int, padding: int) -> bool:
    """PyTorch's policy (not geometry): pooling padding must be at most half the nominal kernel."""
    return 2 * padding > kernel


def torch_refuses_output_padding(output_padding: int, stride: int, dilation: int) -> bool:
    """PyTorch's policy: ``output_padding`` must be smaller than ``max(stride, dilation)``."""
    return output_padding >= max(stride, dilation)


# --- dependencies: which input positions each output reads, layer by layer ----------------------------------


def _cubic_weights(t: float) -> list[float]:
    """PyTorch's cubic convolution weights (A = -0.75) of the four taps around a source coordinate with fraction t."""
    a = Fraction(-3, 4)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def upsample_reads(n: int, mode: str, size_in: int, size_out: int, scale: float | None = None,
                   align_corners: bool = False) -> set[int]:
    """The real input positions output ``n`` of an upsampling reads with a nonzero weight, following PyTorch's
    index arithmetic (UpSample.h): ``nearest_idx`` in float32 as PyTorch computes it; the interpolating modes in
    exact arithmetic (PyTorch's floating point can give a neighbour a weight near 1e-15 in float64, 1e-7 in
    float32, where the exact source coordinate is an integer: that weight is not counted). ``scale`` is the scale
    factor when one was given (else ``size_in/size_out``). Positions outside ``0 .. size_out - 1`` follow the same
    rule, restricted to the real inputs.

    >>> sorted(upsample_reads(3, "linear", 4, 8, 2.0)), sorted(upsample_reads(0, "linear", 4, 8, 2.0))
    ([1, 2], [0])
    """
    top = size_in - 1
    if mode in ("nearest", "nearest-exact"):
        f32 = np.float32
        if size_out == size_in and scale is None:
            return {n} if 0 <= n <= top else set()
        ratio = f32(1.0 / scale) if scale is not None else f32(size_in) / f32(size_out)
        x = f32(n) * ratio if mode == "nearest" else (f32(n) + f32(0.5)) * ratio
        i = min(int(np.floor(x)), top)
        return {i} if 0 <= i <= top else set()
    if size_out == size_in:  # PyTorch copies
        return {n} if 0 <= n <= top else set()
    if align_corners:
        ratio = Fraction(size_in - 1, size_out - 1) if size_out > 1 else Fraction(0)
    else:
        ratio = 1 / Fraction(scale) if scale is not None else Fraction(size_in, size_out)
    src = ratio * n if align_corners else ratio * (n + Fraction(1, 2)) - Fraction(1, 2)
    if mode == "linear":
        src = max(src, Fraction(0)) if not align_corners else src
        i0 = min(math.floor(src), top)
        lam = min(max(src - i0, Fraction(0)), Fraction(1))
        i1 = i0 + (1 if i0 < top else 0)
        taps = {i0: 1 - lam}
        taps[i1] = taps.get(i1, Fraction(0)) + lam
    else:  # cubic: four taps, each index clamped to the border
        i0 = math.floor(src)
        taps = {}
        for k, w in enumerate(_cubic_weights(src - i0)):
            j = min(max(i0 - 1 + k, 0), top)
            taps[j] = taps.get(j, Fraction(0)) + w
    return {i for i, w in taps.items() if w != 0 and 0 <= i <= top}


def window_reads(n: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1) -> set[int]:
    """Positions output ``n`` of a window layer reads (padding included: they may be negative or past the end)."""
    return {n * stride - padding + t * dilation for t in range(kernel)}


def transposed_reads(n: int, size_in: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1) -> set[int]:
    """The real inputs ``i`` whose scatter reaches output ``n``: ``i*stride - padding + t*dilation = n``."""
    return {i for i in range(size_in) for t in range(kernel) if i * stride - padding + t * dilation == n}


def _union(runs) -> tuple[tuple[int, int], ...]:
    """Disjoint sorted runs ``(first, last)`` covering exactly the positions of ``runs``."""
    out: list[list[int]] = []
    for a, b in sorted(runs):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def dependencies_1d(nodes: list, wanted: dict[int, int]) -> dict[int, list[tuple[tuple[int, int], ...]]]:
    """The network-input positions each output of the ``wanted`` nodes depends on, as runs of positions.

    ``nodes[k] = (inputs, reads)``: ``inputs`` the nodes it reads (-1: the network input, whose position ``m``
    depends on ``{m}``, padding included), ``reads[j](n)`` the positions of input ``j`` output ``n`` reads (None:
    the same position). ``wanted`` maps a node to its number of (real) output positions. Returns, per wanted
    node, one tuple of disjoint runs ``(first, last)`` per position (empty: the output depends on no input).
    Every set is built by enumeration (an exact union of runs), never by a formula.

    >>> conv = ([-1], [lambda n: window_reads(n, 3, 2, 1)])           # 3-wide window, stride 2, padding 1
    >>> dependencies_1d([conv, ([0], [lambda n: window_reads(n, 3, 1)])], {1: 2})[1]
    [((-1, 5),), ((1, 7),)]
    """
    needed: dict[int, set] = {k: set(range(p)) for k, p in wanted.items()}
    for node in range(max(wanted), -1, -1):  # which positions of each node are read (inputs precede readers)
        inputs, reads = nodes[node]
        for m in needed.get(node, ()):
            for src, read in zip(inputs, reads, strict=True):
                needed.setdefault(src, set()).update((m,) if read is None else read(m))
    done: dict[int, dict] = {-1: {m: ((m, m),) for m in needed.get(-1, ())}}
    for node in range(max(wanted) + 1):
        inputs, reads = nodes[node]
        table = done[node] = {}
        for m in needed.get(node, ()):
            runs = [run for src, read in zip(inputs, reads, strict=True)
                    for q in ((m,) if read is None else read(m)) for run in done[src][q]]
            table[m] = _union(runs)
    return {k: [done[k][n] for n in range(p)] for k, p in wanted.items()}
