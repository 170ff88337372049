"""Private brute force for the derivations: counts by enumeration, never by a closed form.

Window starts come from :func:`symcnn.reference.windows_1d`; the few things the reference module does not
expose (transposed-conv output length, FULL windows, adaptive windows, operation counts) are enumerated here.

>>> count_windows(5, 2, 2, 1, 1, 1, ceil_mode=True)
3
>>> transposed_length(3, 3, 2, 1, 1, 1, 1)        # 3x3 stride 2 pad 1, output_padding 1 -> 6
6
"""

from __future__ import annotations

import numpy as np

from .. import reference


def count_windows(size, kernel, stride, pad_left=0, pad_right=None, dilation=1, ceil_mode=False) -> int:
    """Number of window positions (reference enumeration)."""
    return len(reference.windows_1d(size, kernel, stride, pad_left, pad_right, dilation, ceil_mode))


def transposed_length(size, kernel, stride, pad_left, pad_right, dilation, output_padding) -> int:
    """Length of a transposed convolution's output by scattering: every (input i, tap t) pair writes position
    ``i*stride + t*dilation``; the full output reaches the furthest write, then ``output_padding`` zeros are
    appended and the paddings cropped. Returns 0 or less when nothing is left."""
    reach = np.add.outer(np.arange(size) * stride, np.arange(kernel) * dilation).max()
    return int(reach) + 1 + output_padding - pad_left - pad_right


def full_windows(size, kernel, stride, dilation) -> int:
    """FULL convolution: window starts ``-(F_eff - 1) + k*stride`` whose span meets the input."""
    span = dilation * (kernel - 1) + 1
    n, t = 0, -(span - 1)
    while t <= size - 1:  # the span [t, t + span - 1] meets [0, size - 1]
        if t + span - 1 >= 0:
            n += 1
        t += stride
    return n


def adaptive_windows(size, out) -> list[range]:
    """PyTorch's adaptive windows (AdaptivePooling.h ``start_index``/``end_index``), by integer arithmetic."""
    return [range((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def accumulate_ops(n: int, bias: bool) -> tuple[int, int]:
    """(multiplications, additions) of ``acc = x0*w0; acc += xi*wi ...; acc += b`` for one output."""
    mults = adds = 0
    acc = None
    for _ in range(n):
        mults += 1
        if acc is None:
            acc = 1
        else:
            adds += 1
    if bias:
        adds += 1
    return mults, adds


def brute_map_count(g, sym: bool) -> np.ndarray:
    """Window counts over a grid of W, F, S, D and P (symmetric) or P_l, P_r."""
    cols = ("W", "F", "S", "P", "P", "D") if sym else ("W", "F", "S", "Pl", "Pr", "D")
    it = zip(*(g[c].tolist() for c in cols), strict=True)
    return np.array([count_windows(w, f, s, pl, pr, d) for w, f, s, pl, pr, d in it])
