"""The values ``from_torch`` tracks besides tensors: sizes read in ``forward``, unknown results, and the
exceptions that collect unsupported operations."""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ...layers._base import fmt


class _Batch:
    """The batch size read from a tensor (``x.size(0)``, ``x.shape[0]``)."""

    def __repr__(self) -> str:
        return "batch"


_BATCH = _Batch()


@dataclass(frozen=True)
class _Dim:
    """A size read in ``forward`` (``x.size(2)``, ``x.shape[-1]``, or arithmetic on them): its value is the
    symbolic size itself, so a size taken from one tensor and used on another stays a formula."""

    value: sympy.Expr

    def __repr__(self) -> str:
        return fmt(self.value)


class _Sizes(tuple):
    """``x.shape`` / ``x.size()``: ``(batch, C, *spatial)`` as :data:`_BATCH` and :class:`_Dim` values."""

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(map(repr, self))}])"


def _size_of(shape) -> _Sizes:
    return _Sizes((_BATCH, *(_Dim(sympy.sympify(v)) for v in shape)))


class _Unknown:
    """The value of an operation that could not be converted (reported once, where it happens)."""

    def __repr__(self) -> str:
        return "<the result of an unsupported operation>"


_UNKNOWN = _Unknown()


def _show(value) -> str:
    """A value as the user wrote it: sizes as formulas, tensors by their layer name, never an internal repr."""
    if isinstance(value, (list, tuple)) and not isinstance(value, _Sizes):
        inner = ", ".join(_show(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_show(v)}" for k, v in value.items()) + "}"
    if type(value).__name__ == "Node" and hasattr(value, "inputs"):
        return f"the output of '{value.name}'" if value.name and value.module is not None else "the input tensor"
    return repr(value)


class _Unsupported(Exception):
    """One operation from_torch cannot convert; collected, then reported together."""


class _Skip(Exception):
    """An operation downstream of an unsupported one: not reported again."""


def _show_index(index) -> str:
    """An index as written in Python: ``:, :, None, None``, ``2:``, ``-1``."""
    if isinstance(index, tuple):
        return ", ".join(_show_index(i) for i in index)
    if isinstance(index, slice):
        text = ":".join("" if v is None else _show(v) for v in (index.start, index.stop))
        return text if index.step is None else f"{text}:{_show(index.step)}"
    return "..." if index is Ellipsis else _show(index)
