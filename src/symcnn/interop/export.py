"""Moved to :mod:`symcnn.present`; this shim keeps ``symcnn.interop.export`` importable."""

from ..present._documents import derivation_html, derivation_latex  # noqa: F401
from ..present._tables import *  # noqa: F403
from ..present._tables import COLUMNS, TEXT_COLUMNS, _wrap  # noqa: F401
