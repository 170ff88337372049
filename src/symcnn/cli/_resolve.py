"""What a model argument names: a zoo model, a spec (file or example), an ONNX file, or ``module:attribute``.

``module:attribute`` runs code of the named module, so what it accepts is narrow (:data:`TARGET_RULE`): the
standard library, symcnn itself and packaging/tooling distributions (pip, setuptools, mkdocs, pytest, ...) are
refused before anything is imported, and nothing is called unless it is a class or a function *defined in* the
named module (not one it imported from elsewhere); a class only when it is a ``torch.nn.Module`` or symcnn network
class, a function only when its module is the user's own code (its file lies outside every
site-packages/dist-packages folder) or belongs to a known model library (:data:`MODEL_LIBRARIES`).
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys

from .._errors import SymcnnError
from ._values import one_line, parse_shape

__all__ = ["TARGET_RULE", "MODEL_LIBRARIES", "TOOLING", "default_input", "resolve_model", "analyze_resolved",
           "is_model_name", "import_target"]

_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_TARGET = re.compile(rf"^{_DOTTED}:{_DOTTED}$")
_SPEC_SUFFIXES = (".yaml", ".yml", ".toml")

#: installed packages whose functions ``module:attribute`` may call (model factories such as ``resnet18``)
MODEL_LIBRARIES = ("torchvision", "timm")
#: packaging and tooling distributions (and symcnn itself): never imported by ``module:attribute``
TOOLING = frozenset({
    "symcnn", "pip", "setuptools", "pkg_resources", "_distutils_hack", "wheel", "distutils", "build", "installer",
    "twine", "virtualenv", "pipx", "poetry", "pdm", "hatch", "hatchling", "flit", "flit_core", "uv", "conda",
    "mamba", "tox", "nox", "mkdocs", "material", "sphinx", "pytest", "_pytest", "pluggy", "hypothesis", "coverage",
    "IPython", "ipykernel", "jupyter", "jupyter_core", "jupyter_client", "jupyterlab", "notebook", "nbconvert",
    "ruff", "mypy", "black", "isort", "pylint", "flake8", "pre_commit", "invoke", "fabric", "ansible",
})

#: the rule for ``module:attribute`` (shown in ``symcnn summary --help``)
TARGET_RULE = (
    "module:attribute imports the module (the current folder is searched after the installed packages; "
    "standard-library modules, symcnn's own and packaging/tooling ones such as pip, setuptools, mkdocs or pytest "
    "are refused) and accepts a symcnn layer or network or a torch.nn.Module instance, or a class or function "
    "defined in that module itself (not imported into it), which is called without arguments and must return one; "
    "a class only if it is a torch.nn.Module or symcnn network class, a function only if its module is your own "
    "code (a file outside every site-packages/dist-packages folder, e.g. in the current folder or on PYTHONPATH) "
    f"or comes from a model library ({', '.join(MODEL_LIBRARIES)})"
)


def default_input(name: str) -> tuple:
    """The input a zoo model is analysed on: symbolic spatial sizes unless the model fixes them."""
    from .._symbols import H, W

    return {"lenet5": (1, 32, 32), "unet": (1, H, W), "dcgan_generator": (100, 1, 1)}.get(name, (3, H, W))


def _is_torch_class(cls) -> bool:
    return isinstance(cls, type) and any(
        c.__name__ == "Module" and c.__module__.startswith("torch.nn") for c in cls.__mro__)


def _network_classes() -> tuple:
    from .._graph import Graph, Sequential
    from ..layers._base import Layer

    return Layer, Sequential, Graph


def _is_network(obj) -> bool:
    return isinstance(obj, _network_classes())


def _is_torch_module(obj) -> bool:
    return not isinstance(obj, type) and _is_torch_class(type(obj))


def _refuse(target: str, why: str) -> SymcnnError:
    return SymcnnError(f"model {target!r}: {why}; `symcnn summary --help` says what module:attribute accepts")


def _import(target: str, module_name: str):
    top = module_name.split(".")[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        raise _refuse(target, f"{module_name!r} is a standard-library module, not a model")
    if top.lower() in {name.lower() for name in TOOLING}:  # named by the target already: not repeated
        raise _refuse(target, "that module belongs to symcnn itself" if top == "symcnn" else
                      "that module belongs to a packaging or tooling distribution, not to a model")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:  # modules of the current folder, after the installed ones
        sys.path.append(cwd)
    try:
        return importlib.import_module(module_name)
    except ImportError as e:
        raise SymcnnError(f"model {target!r}: cannot import {module_name!r} ({one_line(e)})") from None
    except SystemExit as e:  # the module ran a script on import
        raise SymcnnError(f"model {target!r}: importing {module_name!r} called sys.exit({e.code!r})") from None
    except Exception as e:  # the user's module failed while importing
        raise SymcnnError(f"model {target!r}: importing {module_name!r} raised {type(e).__name__}: "
                          f"{one_line(e)}") from None


def _own_code(module) -> bool:
    """Whether ``module``'s file lies outside every site-packages/dist-packages folder (the user's own code)."""
    path = getattr(module, "__file__", None)
    if not isinstance(path, str):
        return False
    parts = {p.lower() for p in os.path.realpath(path).replace("\\", "/").split("/")}
    return not parts & {"site-packages", "dist-packages"}


def import_target(target: str, shape):
    """(network, shape) for ``module:attribute`` under :data:`TARGET_RULE`."""
    if not isinstance(target, str) or not _TARGET.match(target):
        raise SymcnnError(f"model {target!r}: use module:attribute with Python names (e.g. mypkg.nets:model)")
    module_name, attr = target.split(":")
    obj = module = _import(target, module_name)
    for part in attr.split("."):
        if part.startswith("__"):
            raise _refuse(target, f"{part!r} is a special attribute")
        if not hasattr(obj, part):
            raise SymcnnError(f"model {target!r}: {module_name!r} has no attribute {part!r}")
        obj = inspect.getattr_static(obj, part) if isinstance(obj, type) else getattr(obj, part)
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
    if not _is_network(obj) and not _is_torch_module(obj):
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            raise _refuse(target, f"{attr} is a {type(obj).__name__}")
        if getattr(obj, "__module__", None) != module_name:
            raise _refuse(target, f"{attr} is defined in {getattr(obj, '__module__', None)!r}, not in "
                                  f"{module_name!r}; name the module that defines it")
        if inspect.isclass(obj) and not (_is_torch_class(obj) or issubclass(obj, _network_classes())):
            raise _refuse(target, f"{attr} is a class but neither a torch.nn.Module nor a symcnn network class")
        if not inspect.isclass(obj) and not _own_code(module) and module_name.split(".")[0] not in MODEL_LIBRARIES:
            raise _refuse(target, f"{attr} is a function of the installed package {module_name.split('.')[0]!r}, "
                                  f"which is neither your own code nor a model library ({', '.join(MODEL_LIBRARIES)})")
        try:
            obj = obj()
        except SystemExit as e:
            raise SymcnnError(f"model {target!r}: calling {attr}() called sys.exit({e.code!r})") from None
        except Exception as e:
            raise SymcnnError(f"model {target!r}: calling {attr}() raised {type(e).__name__}: {one_line(e)}") from None
    if _is_network(obj):
        return obj, shape
    if _is_torch_module(obj):
        try:
            from ..interop.torch import from_torch
        except ImportError:
            raise SymcnnError(
                f"model {target!r} is a torch.nn.Module, but symcnn.from_torch is not available in this "
                "installation"
            ) from None
        return from_torch(obj, shape), shape
    raise SymcnnError(f"model {target!r}: {attr}() returned a {type(obj).__name__}; expected a symcnn layer or "
                      "network or a torch.nn.Module")


def is_model_name(name: str) -> bool:
    """Whether ``name`` names a model (zoo, spec, example, module:attribute) rather than a layer."""
    from .. import models
    from ..spec import examples

    return (name in models.names() or ":" in name or name.lower().endswith(_SPEC_SUFFIXES + (".onnx",))
            or name in examples())


def resolve_model(name: str, input_text: str | None):
    """(model, input shape, title) for a zoo name, a spec (path or example name) or module:attribute."""
    from .. import models
    from .._symbols import H, W
    from ..spec import examples, load_spec

    shape = parse_shape(input_text) if input_text else None
    if name in models.names():
        return models.get(name), shape or default_input(name), name
    if name.lower().endswith(_SPEC_SUFFIXES) or name in examples():
        spec = load_spec(name)
        return spec.model, shape or spec.input_shape, spec.name
    if name.lower().endswith(".onnx"):
        from ..interop.onnx import from_onnx

        net = from_onnx(name, input_shape=shape)  # --input renames or fixes the file's dims
        return net, net.input_shape, os.path.basename(name)
    if name.split(":")[0] in MODEL_LIBRARIES:
        return (*_catalog_model(name, shape), name.split(":")[1])
    if ":" in name:
        model, shape = import_target(name, shape or (3, H, W))
        return model, shape, name.split(":")[1]
    raise SymcnnError(
        f"unknown model {name!r}: give a zoo name ({', '.join(models.names())}), an example spec "
        f"({', '.join(examples())}), a .yaml/.yml/.toml spec file, an .onnx file or module:attribute"
    )


def _catalog_model(name: str, shape):
    """``torchvision:<model>`` / ``timm:<model>``: the library's model (``weights=None``, built on PyTorch's meta
    device: no weights in memory) read by ``from_torch`` with its catalog input (video: (3, T, H, W))."""
    from ..interop import catalog

    library, model = name.split(":", 1)
    if library == "torchvision":
        known = catalog.entries("torchvision") + catalog.entries("torchvision", convolutional=False)
        entry = next((e for e in known if e.name == model), None)
        if entry is None:
            raise SymcnnError(f"model {name!r}: torchvision has no model {model!r}; its convolutional models: "
                              + ", ".join(e.name for e in catalog.entries("torchvision")))
    else:
        entry = catalog.CatalogEntry("timm", model, "classification")
    try:
        module = entry.build()
    except SymcnnError:
        raise
    except Exception as e:  # the library's own refusal (an unknown timm name, ...), in one line
        raise SymcnnError(f"model {name!r}: {library} cannot build it: {one_line(str(e))}") from None
    if shape is None:
        return entry.import_model(module), entry.input_shape
    from ..interop.torch import from_torch

    return from_torch(module, shape, output=entry.output), shape


def analyze_resolved(model_name: str, input_text: str | None):
    """(analysis, title). A spec whose sizes use its input symbols (``Linear: [64*floor(H/4), ...]``) is
    analysed on its own input shape and ``--input`` substitutes those symbols, so both stay consistent."""
    import sympy

    from .. import models
    from .._analysis import analyze

    model, shape, title = resolve_model(model_name, input_text)
    if input_text and model_name not in models.names() and ":" not in model_name \
            and not model_name.lower().endswith(".onnx"):
        from ..spec import load_spec

        own = load_spec(model_name).input_shape
        if len(own) == len(shape):
            mapping = {o: g for o, g in zip(own, shape, strict=True) if isinstance(o, sympy.Symbol) and o != g}
            if all(isinstance(o, sympy.Symbol) or o == g for o, g in zip(own, shape, strict=True)):
                a = analyze(model, own)
                return (a.subs(mapping) if mapping else a), title
    return analyze(model, shape), title
