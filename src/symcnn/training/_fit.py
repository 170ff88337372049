"""``max_batch`` and ``max_input_size``: the largest batch / square input whose training step fits in memory.

Both evaluate :attr:`TrainingCost.total_bytes` exactly (integers, no floating point). The total is
non-decreasing in the batch and in the input size (every term is a product of sizes and floors of sizes), so an
exponential search for a size that does not fit followed by a binary search finds the largest one that does:
``fits(answer)`` and not ``fits(answer + 1)``. Both refuse when even 1 does not fit, and bound their search.
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from .._intmath import decide
from .._symbols import size_symbol
from ._core import B, training
from ._memory import parse_memory

__all__ = ["max_batch", "max_input_size", "MAX_BATCH", "MAX_SIZE"]

MAX_BATCH = 2**40  #: the largest batch searched
MAX_SIZE = 2**20   #: the largest input side searched
_SCAN = 2**16      #: sizes scanned down from the memory bound for one the model accepts


def _largest(where: str, fits, limit: int, what: str) -> int:
    if not fits(1):
        raise SymcnnError(f"{where}: even {what}=1 does not fit in the given memory")
    lo, hi = 1, 2
    while fits(hi):
        lo, hi = hi, hi * 2
        if hi > limit:
            if fits(limit):
                raise SymcnnError(f"{where}: {what}={limit} still fits; the search stops there (its limit)")
            hi = limit
            break
    while hi - lo > 1:  # fits(lo), not fits(hi)
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _numeric_total(where: str, cost, allowed: set) -> sympy.Expr:
    extra = cost.total_bytes.free_symbols - allowed
    if extra:
        raise SymcnnError(f"{where}: the memory total still has symbol(s) {', '.join(sorted(s.name for s in extra))}; "
                          "give numbers for the input shape and every layer argument")
    return cost.total_bytes


def max_batch(model, input_shape, *, memory, **options) -> int:
    """The largest batch whose training step fits in ``memory`` (``"24 GiB"``, ``"16GB"`` or bytes).

    ``options`` are those of :func:`symcnn.training` (dtype, optimizer, frozen, inplace, checkpoint,
    mixed_precision, master_weights, device). The input shape must be numbers.

    Examples:
        >>> import symcnn as sc
        >>> net = sc.Sequential(sc.Conv2d(3, 8, 3, padding=1), sc.ReLU())
        >>> max_batch(net, (3, 32, 32), memory="1 MiB", optimizer="sgd")   # 1728 + 2048*n... bytes
        23
    """
    where = "max_batch"
    limit = parse_memory(where, memory)
    if "batch" in options:
        raise SymcnnError(f"{where}: `batch` is what is searched; do not give it")
    cost = training(model, input_shape, batch=B, **options)
    total = _numeric_total(where, cost, {B})
    poly = sympy.Poly(total, B) if total.has(B) else None
    if poly is not None and all(c.is_Integer for c in poly.all_coeffs()):
        coeffs = [int(c) for c in poly.all_coeffs()]

        def fits(n: int) -> bool:
            value = 0
            for c in coeffs:
                value = value * n + c
            return value <= limit
    else:
        def fits(n: int) -> bool:
            return int(total.xreplace({B: n})) <= limit
    best = _largest(where, fits, MAX_BATCH, "batch")
    for c in cost.conditions:  # each grows with the batch (a BatchNorm's values per channel): checked at the best
        if decide(c.relation.xreplace({B: best})) is False:
            raise SymcnnError(f"{where}: the largest batch that fits is {best}, but {c.where}: {c.message}")
    return best


def max_input_size(model, *, batch, memory, channels=3, **options) -> int:
    """The largest ``S`` such that a training step on ``(channels, S, S)`` inputs at ``batch`` fits in ``memory``.

    Sizes the model refuses (a condition of the analysis is false) do not count as fitting; for models that
    accept only some sizes (U-Net) the answer is the largest accepted size that fits, found by stepping down
    from the memory bound (at most 65536 sizes).
    """
    where = "max_input_size"
    limit = parse_memory(where, memory)
    s = size_symbol("S_side")
    cost = training(model, (channels, s, s), batch=batch, **options)
    total = _numeric_total(where, cost, {s})
    conditions = [c.relation for c in (*cost.analysis.conditions, *cost.conditions)]

    def valid(n: int) -> bool:
        return all(decide(rel.xreplace({s: n})) is not False for rel in conditions)

    def fits_bytes(n: int) -> bool:
        return int(total.xreplace({s: n})) <= limit

    smallest = next((n for n in range(1, 4097) if valid(n)), None)
    if smallest is None:
        raise SymcnnError(f"{where}: the model accepts no square input up to 4096")
    if not fits_bytes(smallest):
        raise SymcnnError(f"{where}: even the smallest accepted input ({smallest}x{smallest}) does not fit")
    # memory is non-decreasing in S for every size: search the memory bound, then step down to a valid size
    best = _largest(where, lambda n: fits_bytes(max(n, smallest)), MAX_SIZE, "size")
    for n in range(best, max(best - _SCAN, smallest - 1), -1):
        if valid(n):
            return n
    raise SymcnnError(f"{where}: no accepted size among the {_SCAN} sizes below {best} (the scan's limit)")
