"""The model catalogs ``from_torch`` is checked against: every convolutional network of torchvision and a list of
timm's, with how to build each one and the input it takes.

>>> entry = next(e for e in entries("torchvision") if e.name == "resnet50")   # doctest: +SKIP
>>> net = entry.import_model()          # sc.from_torch(torchvision.models.resnet50(), (3, H, W))  # doctest: +SKIP

Models are built with ``weights=None`` (nothing is downloaded) and, by default, on PyTorch's ``meta`` device: no
memory is allocated for the weights and a forward pass only computes shapes, which is all symcnn and the
reference counts (``torch.utils.flop_counter.FlopCounterMode``) read. Transformers (ViT, Swin, MaxViT, MViT) are
listed as not convolutional: ``from_torch`` refuses them with one line naming the attention operation.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from .._errors import SymcnnError
from .._symbols import H, W
from .torch.custom_modules import _import_torch

__all__ = ["CatalogEntry", "entries", "TIMM_MODELS", "TIMM_NOT_READ", "NOT_CONVOLUTIONAL", "TORCHVISION_QUANTIZABLE",
           "TIMM_SLOW", "last_feature_map"]

#: model-name prefixes of torchvision's transformers (attention is not what symcnn models)
NOT_CONVOLUTIONAL = ("vit_", "swin", "maxvit", "mvit")

#: timm models checked by the catalog test: the convolutional families of issue 15, a few of each
TIMM_MODELS = (
    "resnet18", "resnet50", "resnet50d", "resnet26t", "seresnet50", "resnext50_32x4d", "ecaresnet50d",
    "skresnet18", "res2net50_26w_4s", "resnest14d", "resnetv2_50", "resnetv2_50x1_bit",
    "efficientnet_b0", "efficientnet_b3", "efficientnetv2_rw_s", "tinynet_a", "mixnet_s",
    "mobilenetv3_large_100", "mobilenetv3_small_100", "mobilenetv2_100", "mnasnet_100", "fbnetc_100",
    "spnasnet_100", "lcnet_050", "hardcorenas_a",
    "regnetx_002", "regnety_002", "regnety_040", "regnetz_b16",
    "convnext_atto", "convnext_tiny", "convnextv2_atto", "edgenext_xx_small", "inception_next_tiny",
    "rexnet_100", "ghostnet_100", "ghostnetv2_100", "dla34", "dla46_c", "dpn68", "hrnet_w18_small",
    "cspresnet50", "cspdarknet53", "darknet53", "cs3darknet_s", "densenet121", "inception_v3", "inception_v4",
    "xception41", "selecsls42b", "repvgg_a0", "mobileone_s0", "nf_resnet26", "vovnet39a", "ese_vovnet19b_dw",
    "tresnet_m", "gernet_s", "hgnet_tiny", "hgnetv2_b0", "resnetblur50", "densenetblur121d",
    # issue 22: TensorFlow SAME padding computed in forward (Conv2dSame; pad_same before ScaledStdConv2d), tensor
    # subtraction (PoolFormer's and FastViT's token mixers), channels-last global pooling (MambaOut)
    "tf_mobilenetv3_small_100", "dm_nfnet_f0", "poolformer_s12", "fastvit_t8",
    "mambaout_femto",
)

#: torchvision's quantizable models (``torchvision.models.quantization``), built in float (``quantize=False``: the
#: quantization stubs are identities, ``FloatFunctional`` adds and concatenates as ``torch.add``/``torch.cat``); a
#: few of the list, checked like the others
TORCHVISION_QUANTIZABLE = ("quantized_mobilenet_v3_large", "quantized_resnet18", "quantized_shufflenet_v2_x0_5")

#: timm models of the list that from_torch does not read yet, with what it lacks (the tests expect the refusal)
TIMM_NOT_READ = {
    "convnextv2_atto": "GlobalResponseNorm: x.norm(p=2, dim=(1, 2)) has no formulas yet",
    "edgenext_xx_small": "SplitTransposeBlock: attention over H*W tokens and a positional encoding built with "
                         "torch.zeros in forward",
}

#: timm models of the list that from_torch reads but whose analysis takes minutes (the tests skip them)
TIMM_SLOW = {
    "tresnet_m": "SpaceToDepth is read (issue 22), but the receptive-field merge of its squeeze-excitation branches "
                 "(receptive.merge_states: smax of nested Max in 4*floor(H/4)) takes minutes",
}

_VIDEO_SIZES = ((16, 112, 112), (8, 96, 128), (4, 64, 80))
_IMAGE_SIZES = ((224, 224), (193, 257), (160, 288))
#: models that need spatial sizes divisible by 32 (their branches are added or concatenated after strides)
_SIZES_BY_32 = ((224, 224), (192, 256), (160, 288))


@dataclass(frozen=True)
class CatalogEntry:
    """One catalog model: its library, name, task, the symbolic input and the sizes it is checked at."""

    library: str
    name: str
    task: str  # "classification", "segmentation" or "video"
    kwargs: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple:
        """The symbolic input ``(3, H, W)`` (video: ``(3, T, H, W)``)."""
        if self.task == "video":
            from .._symbols import T
            return (3, T, H, W)
        return (3, H, W)

    @property
    def output(self):
        """The entry of a dict output ``from_torch`` reads (segmentation models return ``{'out': ...}``)."""
        return "out" if self.task == "segmentation" else None

    @property
    def sizes(self) -> tuple:
        """Concrete input sizes (without channels) the model is checked at, H != W among them."""
        if self.task == "video":
            return ((16, 224, 224), (24, 224, 288), (32, 256, 224)) if self.name == "s3d" else _VIDEO_SIZES
        if self.library == "timm" and self.name.startswith(("dla", "hrnet", "tresnet", "cs", "darknet", "dpn",
                                                            "regnetz", "edgenext", "inception_next")):
            return _SIZES_BY_32
        if self.name in ("inception_v3", "inception_v4"):
            return ((299, 299), (193, 257), (160, 288))
        return _IMAGE_SIZES

    def substitution(self, size) -> dict:
        """``{symbol name: value}`` for one of :attr:`sizes`."""
        names = ("T", "H", "W") if self.task == "video" else ("H", "W")
        return dict(zip(names, size, strict=True))

    def build(self, device: str = "meta"):
        """The torch model (``weights=None``, eval mode) on ``device`` (``"meta"``: shapes only, no memory)."""
        torch = _import_torch()
        if self.library == "torchvision":
            import torchvision

            def make():
                return torchvision.models.get_model(self.name, weights=None, **self.kwargs)
        else:
            import timm

            def make():
                return timm.create_model(self.name, pretrained=False, **self.kwargs)
        if device != "meta":
            return make().eval().to(device)
        try:
            with torch.device("meta"):
                return make().eval()
        except (NotImplementedError, RuntimeError):  # a builder that reads tensor values while it builds
            with _no_init():
                return make().eval().to("meta")

    def import_model(self, module=None, **kwargs):
        """``symcnn.from_torch`` of the model (built here on the meta device unless ``module`` is given)."""
        from .torch import from_torch

        module = self.build() if module is None else module
        return from_torch(module, self.input_shape, output=self.output, **kwargs)


def last_feature_map(analysis) -> tuple:
    """The shape of the last layer output whose size still depends on the input (a classifier's global pooling
    follows it; for a segmentation model it is the output): where a network's total stride shows."""
    rank = len(analysis.input_shape)
    same = [r.output_shape for r in analysis.layers if len(r.output_shape) == rank
            and any(getattr(d, "free_symbols", None) for d in r.output_shape[1:])]
    return tuple(same[-1]) if same else tuple(analysis.output_shape)


@contextlib.contextmanager
def _no_init():
    """``torch.nn.init``'s in-place initialisers as no-ops (a model built only to be moved to ``meta``)."""
    import torch.nn.init as init

    saved = {k: getattr(init, k) for k in dir(init) if k.endswith("_") and not k.startswith("_")}
    try:
        for k in saved:
            setattr(init, k, lambda tensor, *a, **kw: tensor)
        yield
    finally:
        for k, v in saved.items():
            setattr(init, k, v)


def entries(library: str = "torchvision", convolutional: bool = True) -> list[CatalogEntry]:
    """The catalog of ``library`` (``"torchvision"`` or ``"timm"``).

    torchvision's list is read from the installed torchvision (classification, segmentation, video models);
    ``convolutional=False`` returns the transformers instead (which ``from_torch`` refuses).
    """
    if library == "timm":
        return [CatalogEntry("timm", n, "classification") for n in TIMM_MODELS] if convolutional else []
    if library != "torchvision":
        raise SymcnnError(f"catalog: `library`={library!r} must be 'torchvision' or 'timm'")
    try:
        from torchvision import models
    except ImportError:
        raise SymcnnError("catalog: torchvision is not installed (pip install torchvision)") from None
    out = []
    for task, module in (("classification", models), ("segmentation", models.segmentation),
                         ("video", models.video)):
        for name in models.list_models(module=module):
            if name.startswith(NOT_CONVOLUTIONAL) != (not convolutional):
                continue
            kwargs = {}
            if name in ("inception_v3", "googlenet"):
                kwargs = {"init_weights": False}  # aux heads kept (eval does not call them; params count them)
            if task == "segmentation":
                kwargs = {"weights_backbone": None}
            out.append(CatalogEntry("torchvision", name, task, kwargs))
    if convolutional:
        out += [CatalogEntry("torchvision", name, "classification", {"quantize": False})
                for name in TORCHVISION_QUANTIZABLE]
    return out
