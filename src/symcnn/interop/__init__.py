"""Interoperability: PyTorch in and out (optional extra ``symcnn[torch]``) and summary exports."""

from .torch import from_torch as from_torch
from .torch import to_torch as to_torch
