"""Training cost as closed forms: backward FLOPs, saved-activation memory, and the largest batch that fits.

>>> import symcnn as sc
>>> from symcnn.training import B
>>> t = sc.training(sc.models.resnet18(), (3, sc.H, sc.W), batch=B, optimizer="adam", device="cpu")
>>> t.subs(B=1, H=224, W=224).backward_macs == 2 * t.subs(B=1, H=224, W=224).forward_macs - 118013952
True
>>> sc.max_batch(sc.models.resnet18(), (3, 224, 224), memory="24 GiB", optimizer="adam")
1153

Semantics (one training step, PyTorch 2.x, model in train mode, the input not requiring grad):

* ``backward_macs``: input gradients (not for the layer reading the network input, nor for layers no gradient
  reaches) and weight gradients (not for frozen layers) of convolutions and linear layers, each as many MACs as
  the forward pass; ``forward_flops``/``backward_flops`` are ``torch.utils.flop_counter.FlopCounterMode``'s
  counts (2 per MAC; its grouped-convolution weight gradient counts ``groups`` times its MACs).
* ``saved_activation_bytes``: the storages autograd keeps at the end of the forward pass (see
  :mod:`symcnn.training._saved`), each counted once; parameters and buffers excluded.
* ``parameter_bytes``, ``gradient_bytes``, ``optimizer_bytes``, ``master_bytes``, ``buffer_bytes``: see
  :mod:`symcnn.training._memory`.
* ``total_bytes``: their sum plus ``recompute_peak_bytes``. Not promised: allocator fragmentation and
  rounding, cuDNN/oneDNN workspaces, the gradient buffers alive during the backward pass, the CUDA context.
"""

from __future__ import annotations

from ._core import QUANTITIES, B, TrainingCost, TrainingLayer, training
from ._fit import max_batch, max_input_size
from ._memory import parse_memory
from ._table import train_cost_table

__all__ = ["B", "training", "TrainingCost", "TrainingLayer", "QUANTITIES", "max_batch", "max_input_size",
           "parse_memory", "train_cost_table"]
