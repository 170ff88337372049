"""PyTorch in and out: :func:`to_torch` builds a real ``torch.nn.Module`` from a symcnn network,
:func:`from_torch` reads a ``torch.nn.Module`` (through ``torch.fx``) into a symcnn network.

PyTorch is optional (``pip install symcnn[torch]``) and imported only when one of these is called.

``to_torch`` keeps the hyper-parameters and the child names (``nn.Sequential`` for a ``Sequential``; for a
``Graph`` an ``nn.Module`` whose ``forward`` runs the graph's calls in order). Names are PyTorch attribute
names, so a ``"."`` in a symcnn name becomes ``"_"`` (LeNet-5's ``"C1.act"`` is ``C1_act``). Layers without a
PyTorch class become small modules (:mod:`.custom_modules`): ``Add``, ``Mul``, ``Concat``, ``CropConcat`` (centre crop,
then ``torch.cat``), ``SpatialPyramidPooling``, a convolution with asymmetric, ``"tf_same"`` (stride > 1) or
``"same_lower"`` padding (explicit ``F.pad`` then the convolution), and LeNet-5's ``Subsampling2d``,
``ConnectionTableConv2d`` (one convolution per output map over its table row) and ``RBF``
(``|x|^2 - 2 x.w + |w|^2``, one matrix product). Each of those carries its symcnn layer as ``symcnn_layer``,
so :func:`from_torch` reads it back.

Where things are: :mod:`.exporter` (``to_torch``), :mod:`.custom_modules` (the modules above, and the lazy
``import torch``), :mod:`.importer` (``from_torch``: tracing, the walk over the fx graph, output selection),
:mod:`.module_calls` (module calls: leaves, subclasses, arguments bound to ``forward``), :mod:`.ops` (functions
and tensor methods), :mod:`.param_ops` (parameters read in ``forward``: ``F.batch_norm``/``F.layer_norm``/
``F.group_norm``/``F.conv*d``/``F.linear`` with the model's weights, layer scale, ``permute``, stochastic depth),
:mod:`.tables` (what is known: module classes, torchvision/timm classes known by name, functions, signatures),
:mod:`.values` (sizes read in ``forward``, and how values are shown in messages), :mod:`.unused` (parameters
``forward`` never reaches, shared parameters).
"""

from .custom_modules import _custom as _custom
from .custom_modules import _import_torch as _import_torch
from .exporter import to_torch as to_torch
from .importer import from_torch as from_torch

__all__ = ["to_torch", "from_torch"]
