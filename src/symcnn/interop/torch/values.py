"""The values ``from_torch`` tracks besides tensors: sizes read in ``forward``, unknown results, and the
exceptions that collect unsupported operations."""

from __future__ import annotations

from dataclasses import dataclass


class _Batch:
    """The batch size read from a tensor (``x.size(0)``, ``x.shape[0]``)."""

    def __repr__(self) -> str:
        return "<batch>"


_BATCH = _Batch()


@dataclass(frozen=True)
class _Dim:
    """Size ``index`` (batch counted) of the tensor ``node``, read in ``forward``."""

    node: object
    index: int


@dataclass(frozen=True)
class _SizeOf:
    """``x.shape`` / ``x.size()`` of the tensor ``node``."""

    node: object


class _Unknown:
    """The value of an operation that could not be converted (reported once, where it happens)."""


_UNKNOWN = _Unknown()


class _Unsupported(Exception):
    """One operation from_torch cannot convert; collected, then reported together."""


class _Skip(Exception):
    """An operation downstream of an unsupported one: not reported again."""
