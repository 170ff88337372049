"""Derivations that prove themselves.

Each function states a :class:`Derivation` with :func:`claim`: its steps from first principles (counting
window positions, scattering products, counting operations), the facts of its proof (each saying whether it is
symbolic for all values, a residue split over a stated range, or an exhaustive check), and its comparisons of
the engine's own functions with brute force over stated grids. Calling a function re-runs everything;
:func:`all` runs every derivation.

>>> from symcnn import derive
>>> d = derive.same_padding()
>>> d.verified, d.check.mismatches
(True, 0)
>>> d
<Derivation same_padding: verified, 12600 cases>
"""

from __future__ import annotations

import builtins

from ._conv_size import conv_output_size as conv_output_size
from ._conv_size import valid_ceil_form as valid_ceil_form
from ._core import Check as Check
from ._core import Compare as Compare
from ._core import Derivation as Derivation
from ._core import Fact as Fact
from ._core import Grid as Grid
from ._core import Lemma as Lemma
from ._core import Proof as Proof
from ._core import claim as claim
from ._core import compare as compare
from ._costs import conv_flops as conv_flops
from ._costs import conv_macs as conv_macs
from ._costs import conv_params as conv_params
from ._costs import lenet_connections as lenet_connections
from ._padding import full_padding as full_padding
from ._padding import same_padding as same_padding
from ._padding import same_symmetric as same_symmetric
from ._pooling import adaptive_pool_windows as adaptive_pool_windows
from ._pooling import pool_ceil_mode as pool_ceil_mode
from ._pooling import spp_levels as spp_levels
from ._receptive import receptive_alignment as receptive_alignment
from ._receptive import receptive_field as receptive_field
from ._transposed import transposed_offset as transposed_offset
from ._transposed import transposed_output_size as transposed_output_size

#: every derivation, in reading order (names are stable: the docs site links to them)
DERIVATIONS = (
    conv_output_size,
    valid_ceil_form,
    same_padding,
    same_symmetric,
    full_padding,
    transposed_output_size,
    transposed_offset,
    pool_ceil_mode,
    adaptive_pool_windows,
    spp_levels,
    receptive_field,
    receptive_alignment,
    conv_params,
    conv_macs,
    conv_flops,
    lenet_connections,
)


def all() -> builtins.list[Derivation]:  # noqa: A001 - the documented name
    """Build and run every derivation (each call re-runs the proofs and the checks)."""
    return [f().run() for f in DERIVATIONS]


def names() -> builtins.list[str]:
    """The stable names of the derivations, in order."""
    return [f.__name__ for f in DERIVATIONS]


__all__ = [
    "Derivation",
    "Proof",
    "Check",
    "Lemma",
    "Grid",
    "Compare",
    "Fact",
    "claim",
    "compare",
    "all",
    "names",
    "DERIVATIONS",
    *(f.__name__ for f in DERIVATIONS),
]
