"""Layer families; each module holds the formulas of its layers."""

from ._base import AxisMap, Condition, Layer, LayerResult, Shape
from .activation import *  # noqa: F403
from .activation import __all__ as _act
from .channels import *  # noqa: F403
from .channels import __all__ as _channels
from .conv import *  # noqa: F403
from .conv import __all__ as _conv
from .dense import *  # noqa: F403
from .dense import __all__ as _dense
from .lenet import *  # noqa: F403
from .lenet import __all__ as _lenet
from .merge import *  # noqa: F403
from .merge import __all__ as _merge
from .norm import *  # noqa: F403
from .norm import __all__ as _norm
from .opaque import Opaque as Opaque
from .permute import *  # noqa: F403
from .permute import __all__ as _permute
from .pool import *  # noqa: F403
from .pool import __all__ as _pool
from .resize import *  # noqa: F403
from .resize import __all__ as _resize
from .same_pad import *  # noqa: F403
from .same_pad import __all__ as _same_pad
from .scale import *  # noqa: F403
from .scale import __all__ as _scale
from .space_to_depth import *  # noqa: F403
from .space_to_depth import __all__ as _space_to_depth
from .transposed import *  # noqa: F403
from .transposed import __all__ as _transposed

__all__ = [*_act, *_channels, *_conv, *_dense, *_lenet, *_merge, *_norm, *_permute, *_pool, *_resize, *_same_pad,
           *_scale, *_space_to_depth, *_transposed,
           "Opaque", "Layer", "LayerResult", "AxisMap", "Shape", "Condition"]
