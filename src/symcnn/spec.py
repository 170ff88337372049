"""Model spec files: a network in YAML or TOML, for people who do not write Python.

A spec lists layers in order with PyTorch's class and argument names. Sizes may be integers, symbols or
expressions (``16*floor(H/4)``), parsed by symcnn's whitelist grammar (:mod:`symcnn._parse`), never by
``eval``. A layer reads the previous layer's output unless ``from`` names other layers (``input`` is the
network input); merge layers (``Add``, ``Mul``, ``Concat``, ``CropConcat``) take several names, which is how
residual connections and U-Net skips are written.

.. code-block:: yaml

    name: tiny_residual
    input: [3, H, W]              # or "3xHxW"; default: in_channels of the first layer, then H, W
    layers:
      - Conv2d: [3, 16, 3, {padding: 1}]      # positional arguments, then keywords
        name: stem
      - ReLU
      - Conv2d: {in_channels: 16, out_channels: 16, kernel_size: 3, padding: 1}
        name: conv
      - Add:                                  # a residual connection
        from: [stem, conv]
      - AdaptiveAvgPool2d: 1
      - Flatten
      - Linear: [16, 10]

Each layer entry is a layer type (a string when it takes no arguments) or a mapping with exactly one layer
type key whose value is the arguments (a list of positional arguments optionally ending with a mapping of
keywords, a mapping of keywords, or a single value), plus optional ``name`` and ``from``. A string argument is a
size expression (``padding: p`` is the symbol ``p``), except the values of ``padding_mode``, ``mode``,
``approximate`` and ``name``, and the padding modes ``padding: same``/``valid`` (PyTorch's: ``same`` at stride 1
only) and ``tf_same``/``same_lower``/``full`` (TensorFlow's SAME at any stride, ONNX's SAME_LOWER, full padding;
:func:`is_word_argument`). Top-level keys:
``name``, ``description``, ``input``, ``layers`` and ``output`` (the name of the output layer; default the
last). TOML uses the same structure (``[[layers]]`` tables or an inline array). Errors name the file, the line
(YAML) and the field path.

>>> spec = load_spec('''
... input: 3xHxW
... layers:
...   - Conv2d: [3, 8, 3, {stride: 2, padding: 1}]
...   - ReLU
...   - MaxPool2d: 2
... ''')
>>> model, shape = spec
>>> import symcnn as sc
>>> sc.analyze(model, shape).output_shape
(8, floor((H + 1)/4), floor((W + 1)/4))
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
import re
from collections import OrderedDict
from importlib import resources
from pathlib import Path

import sympy

from . import layers as _layers
from ._errors import SymcnnError
from ._graph import Graph, Input, Sequential
from ._parse import parse_expr_safe, parse_shape_text
from .layers._base import Layer

__all__ = ["Spec", "load_spec", "examples", "LAYER_TYPES", "PADDING_WORDS", "is_word_argument"]

_MAX_BYTES = 1_000_000
_MAX_DEPTH = 40
_MAX_LIST = 64
_TOP_KEYS = ("name", "description", "input", "layers", "output")
_ENTRY_KEYS = ("name", "from")
#: arguments whose values are always strings (modes, names), and the words `padding` may be instead of a size
_STRING_PARAMS = ("padding_mode", "mode", "approximate", "name")
PADDING_WORDS = ("same", "valid", "tf_same", "same_lower", "full")
_LAYER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_EXAMPLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}

#: layer types a spec may use: every public symcnn layer, by its PyTorch name
LAYER_TYPES: dict[str, type] = {
    n: getattr(_layers, n) for n in _layers.__all__
    if inspect.isclass(getattr(_layers, n)) and issubclass(getattr(_layers, n), Layer) and n != "Layer"
}
_BY_LOWER = {n.lower(): c for n, c in LAYER_TYPES.items()}


@dataclasses.dataclass(frozen=True)
class Spec:
    """A loaded spec: the network, its default input shape, and where it came from.

    Unpacks as ``model, input_shape = load_spec(...)``.
    """

    model: object
    input_shape: tuple
    name: str
    description: str = ""
    source: str = "<text>"

    def __iter__(self):
        return iter((self.model, self.input_shape))


def is_word_argument(param: str | None, text: str) -> bool:
    """Whether the text given for argument ``param`` is a word passed on as a string (a mode, a name,
    ``padding='same'``) rather than a size expression: ``padding: p`` is the symbol ``p``, ``padding: same`` the
    mode. Shared by spec files and the command line.

    >>> is_word_argument("padding", "same"), is_word_argument("padding", "p"), is_word_argument("mode", "bilinear")
    (True, False, True)
    """
    return param in _STRING_PARAMS or (param == "padding" and text.strip() in PADDING_WORDS)


# --- locating errors -----------------------------------------------------------------------------------------

def _path_text(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<document>"


class _Where:
    """Turns a field path into 'file, line N, field a.b[2]' (line numbers from YAML node marks)."""

    def __init__(self, source: str, marks: dict | None):
        self.source = source
        self.marks = marks or {}

    def __call__(self, path: tuple) -> str:
        line = None
        p = tuple(path)
        while line is None and p:
            line = self.marks.get(p)
            p = p[:-1]
        line = line if line is not None else self.marks.get(())
        at = f", line {line}" if line is not None else ""
        return f"{self.source}{at}, field {_path_text(tuple(path))}"

    def error(self, path: tuple, message: str) -> SymcnnError:
        return SymcnnError(f"{self(path)}: {message}")


def _yaml_marks(node, path: tuple, out: dict, seen: set, depth: int, source: str) -> None:
    import yaml

    if id(node) in seen:
        raise SymcnnError(f"{source}, line {node.start_mark.line + 1}: YAML aliases (*name) are not supported")
    if depth > _MAX_DEPTH:
        raise SymcnnError(f"{source}, line {node.start_mark.line + 1}: nested more than {_MAX_DEPTH} levels deep")
    seen.add(id(node))
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else repr(k)
            out.setdefault((*path, key), k.start_mark.line + 1)
            _yaml_marks(v, (*path, key), out, seen, depth + 1, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _yaml_marks(v, (*path, i), out, seen, depth + 1, source)


# --- reading ---------------------------------------------------------------------------------------------------

def _read_yaml(text: str, source: str):
    import yaml

    loader = None
    try:
        loader = yaml.SafeLoader(text)  # the reader already refuses some characters here
        node = loader.get_single_node()
        if node is None:
            raise SymcnnError(f"{source}: the spec is empty")
        marks: dict = {}
        _yaml_marks(node, (), marks, set(), 0, source)
        data = loader.construct_document(node)
    except SymcnnError:
        raise
    except yaml.reader.ReaderError as e:
        raise SymcnnError(f"{source}, position {e.position}: invalid YAML: character #x{e.character:04x} is not "
                          "allowed") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(x) for x in (e.context, e.problem) if x)
        raise SymcnnError(f"{source}{at}: invalid YAML: {problem}") from None
    except RecursionError:
        raise SymcnnError(f"{source}: invalid YAML: nested too deeply") from None
    except Exception as e:  # third-party parser on untrusted text (e.g. a timestamp with month 13)
        raise SymcnnError(f"{source}: invalid YAML: {type(e).__name__}: {e}".replace("\n", " ")) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, marks


def _read_toml(text: str, source: str):
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as e:
        raise SymcnnError(f"{source}: invalid TOML: {e}".replace("\n", " ")) from None
    except RecursionError:
        raise SymcnnError(f"{source}: invalid TOML: nested too deeply") from None
    except ValueError as e:  # e.g. an integer beyond Python's digit limit
        raise SymcnnError(f"{source}: invalid TOML: {e}".replace("\n", " ")) from None


def _example_dir():
    return resources.files("symcnn") / "examples"


def examples() -> list[str]:
    """Names of the example specs shipped with symcnn (loadable by name).

    >>> "small_cnn" in examples()
    True
    """
    out = []
    for f in _example_dir().iterdir():
        suffix = Path(f.name).suffix
        if suffix in _SUFFIXES:
            out.append(Path(f.name).stem)
    return sorted(set(out))


def _example_file(name: str):
    for suffix in _SUFFIXES:
        f = _example_dir() / f"{name}{suffix}"
        if f.is_file():
            return f
    return None


def _source_text(path_or_text, fmt: str | None) -> tuple[str, str, str]:
    """(text, format, source name)."""
    if isinstance(path_or_text, Path) or (
        isinstance(path_or_text, str) and "\n" not in path_or_text
        and Path(path_or_text).suffix.lower() in _SUFFIXES
    ):
        path = Path(path_or_text)
        fmt = fmt or _SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            raise SymcnnError(f"{path}: unknown spec format; use a .yaml, .yml or .toml file")
        try:
            if path.exists() and not path.is_file():  # /dev/zero, a FIFO, a directory: no size to trust
                raise SymcnnError(f"{path}: not a regular file")
            size = path.stat().st_size
            if size > _MAX_BYTES:
                raise SymcnnError(f"{path}: the file has {size} bytes; specs are limited to {_MAX_BYTES}")
            with path.open("rb") as f:  # read at most the limit, whatever stat said
                data = f.read(_MAX_BYTES + 1)
            if len(data) > _MAX_BYTES:
                raise SymcnnError(f"{path}: the file has more than {_MAX_BYTES} bytes; specs are limited to that")
            return data.decode("utf-8"), fmt, str(path)
        except FileNotFoundError:
            raise SymcnnError(f"{path}: spec file not found") from None
        except UnicodeDecodeError as e:
            raise SymcnnError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        except OSError as e:
            raise SymcnnError(f"{path}: cannot read the spec file ({e.strerror})") from None
    if not isinstance(path_or_text, str):
        raise SymcnnError(
            f"load_spec: {type(path_or_text).__name__} given; pass a file path, an example name or the spec text"
        )
    if _EXAMPLE_NAME.match(path_or_text):
        f = _example_file(path_or_text)
        if f is None:
            raise SymcnnError(
                f"load_spec: {path_or_text!r} is not an example spec (examples: {', '.join(examples())}) "
                "nor a .yaml/.yml/.toml path"
            )
        return f.read_text(encoding="utf-8"), _SUFFIXES[Path(f.name).suffix], f"example {path_or_text}"
    if len(path_or_text) > _MAX_BYTES:
        raise SymcnnError(f"load_spec: the text has {len(path_or_text)} characters; specs are limited to {_MAX_BYTES}")
    if fmt is None:
        toml_like = re.search(r"^\s*(\[\[?\s*layers\s*\]\]?|[A-Za-z_]+\s*=)", path_or_text, re.MULTILINE)
        fmt = "toml" if toml_like else "yaml"
    return path_or_text, fmt, "<text>"


# --- building --------------------------------------------------------------------------------------------------

class _Builder:
    def __init__(self, where: _Where):
        self.where = where

    def fail(self, path, message):
        raise self.where.error(path, message)

    def value(self, v, param: str | None, path: tuple, depth: int = 0):
        """A spec value as a layer argument: numbers, booleans, expression strings, lists -> tuples."""
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            if not math.isfinite(v):
                self.fail(path, f"{v!r} is not a finite number")
            return v
        if isinstance(v, str):
            if is_word_argument(param, v):
                return v
            try:
                e = parse_expr_safe(v, what=f"`{param}`" if param else "value")
            except SymcnnError as err:
                self.fail(path, str(err))
            return int(e) if e.is_Integer else e
        if isinstance(v, (list, tuple)):
            if depth > 3 or len(v) > _MAX_LIST:
                self.fail(path, f"lists are limited to {_MAX_LIST} entries and 3 levels of nesting")
            return tuple(self.value(x, param, (*path, i), depth + 1) for i, x in enumerate(v))
        self.fail(path, f"a {type(v).__name__} value is not allowed here; use numbers, true/false, expression "
                        "strings or lists of them")

    def shape(self, v, path: tuple) -> tuple:
        if isinstance(v, str):
            try:
                v = parse_shape_text(v, "`input`")  # the command line's splitter: 3xmax(H,8)xW has 3 entries
            except SymcnnError as err:
                self.fail(path, str(err))
        if not isinstance(v, (list, tuple)) or not v or len(v) > 5:
            self.fail(path, f"{v!r} must be a shape such as [3, H, W] or \"3xHxW\" (channels first, no batch)")
        out = []
        for i, x in enumerate(v):
            x = self.value(x, "input", (*path, i)) if isinstance(x, str) else x
            if isinstance(x, bool) or not isinstance(x, (int, sympy.Expr)):
                self.fail((*path, i), f"{x!r} must be a positive integer or a size expression")
            if isinstance(x, int) and x < 1:
                self.fail((*path, i), f"{x} must be a positive integer")
            out.append(sympy.Integer(x) if isinstance(x, int) else x)
        return tuple(out)

    def layer(self, kind: str, raw, path: tuple) -> Layer:
        cls = LAYER_TYPES.get(kind) or _BY_LOWER.get(kind.lower())
        if cls is None:
            close = difflib.get_close_matches(kind, list(LAYER_TYPES), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else "; see symcnn.spec.LAYER_TYPES"
            self.fail(path, f"unknown layer type {kind!r}{hint}")
        args: list = []
        kwargs: dict = {}
        apath = (*path, kind)
        if raw is None:
            pass
        elif isinstance(raw, dict):
            kwargs = dict(raw)
        elif isinstance(raw, (list, tuple)):
            args = list(raw)
            if args and isinstance(args[-1], dict):
                kwargs = dict(args.pop())
        else:
            args = [raw]
        sig = inspect.signature(cls.__init__)
        params = [p for p in sig.parameters.values() if p.name != "self"]
        var = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)
        names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        for k in kwargs:
            if not isinstance(k, str) or (not var and k not in names):
                self.fail((*apath, str(k)), f"{cls.__name__} has no argument {k!r}; arguments: {', '.join(names)}")
        if not var and len(args) > len(names):
            self.fail(apath, f"{cls.__name__} takes at most {len(names)} positional arguments "
                             f"({', '.join(names)}), got {len(args)}")
        conv_args = []
        for i, a in enumerate(args):
            pname = names[i] if i < len(names) else None
            conv_args.append(self.value(a, pname, (*apath, i)))
            if pname in kwargs:
                self.fail((*apath, pname), f"{cls.__name__}: argument `{pname}` given twice (by position and name)")
        conv_kwargs = {k: self.value(v, k, (*apath, k)) for k, v in kwargs.items()}
        if not var:
            try:
                sig.bind(None, *conv_args, **conv_kwargs)
            except TypeError as e:
                self.fail(apath, f"{cls.__name__}: {e}")
        try:
            return cls(*conv_args, **conv_kwargs)
        except SymcnnError as e:
            self.fail(apath, str(e))
        except (TypeError, ValueError, ArithmeticError) as e:
            self.fail(apath, f"{cls.__name__}: {e}")

    def network(self, data: dict):
        layers = data.get("layers")
        if not isinstance(layers, list) or not layers:
            self.fail(("layers",), "`layers` must be a non-empty list of layer entries")
        entries = []
        for i, entry in enumerate(layers):
            path = ("layers", i)
            name = src = None
            if isinstance(entry, str):
                kind, raw = entry, None
            elif isinstance(entry, dict):
                keys = [k for k in entry if k not in _ENTRY_KEYS]
                if len(keys) != 1 or not isinstance(keys[0], str):
                    self.fail(path, "a layer entry has exactly one layer type key (e.g. Conv2d) besides the "
                                    f"optional {', '.join(_ENTRY_KEYS)}; got keys {', '.join(map(str, entry))}")
                kind, raw = keys[0], entry[keys[0]]
                name, src = entry.get("name"), entry.get("from")
            else:
                self.fail(path, f"a layer entry must be a layer type or a mapping, got {type(entry).__name__}")
            if name is not None and (not isinstance(name, str) or not _LAYER_NAME.match(name) or name == "input"):
                self.fail((*path, "name"), f"{name!r} must be a name of letters, digits, _ . - (not 'input')")
            if isinstance(src, str):
                src = [src]
            if src is not None and (not isinstance(src, list) or not src or not all(isinstance(s, str) for s in src)):
                self.fail((*path, "from"), f"{src!r} must be a layer name or a list of layer names")
            layer = self.layer(kind, raw, path)
            entries.append((path, name, src, layer))
        seen: dict[str, tuple] = {}
        for path, name, _, _ in entries:
            if name is not None:
                if name in seen:
                    self.fail((*path, "name"), f"two layers are named {name!r} (also {_path_text(seen[name])})")
                seen[name] = path
        output = data.get("output")
        branched = output is not None or any(
            src is not None or getattr(layer, "n_inputs", 1) != 1 for _, _, src, layer in entries
        )
        if not branched:
            return Sequential(OrderedDict(
                (name if name is not None else str(i), layer) for i, (_, name, _, layer) in enumerate(entries)
            )), {name or str(i): path for i, (path, name, _, _) in enumerate(entries)}
        x = Input()
        nodes: dict[str, object] = {"input": x}
        prev = x
        paths = {}
        for path, name, src, layer in entries:
            if src is None:
                inputs = [prev]
            else:
                inputs = []
                for k, s in enumerate(src):
                    if s not in nodes:
                        known = ", ".join(nodes)
                        self.fail((*path, "from", k) if len(src) > 1 else (*path, "from"),
                                  f"{s!r} is not an earlier layer name (known: {known})")
                    inputs.append(nodes[s])
            try:
                node = layer(*inputs, name=name)
            except SymcnnError as e:
                self.fail(path, str(e))
            if name is not None:
                nodes[name] = node
            prev = node
            paths[path] = node
        out = prev
        if output is not None:
            if not isinstance(output, str) or output not in nodes or output == "input":
                self.fail(("output",), f"{output!r} must be the name of a layer (known: {', '.join(nodes)})")
            out = nodes[output]
        try:
            graph = Graph(x, out)
        except SymcnnError as e:
            self.fail(("layers",), str(e))
        return graph, {node.name: path for path, node in paths.items()}


def _default_input(where: _Where, model) -> tuple:
    from ._symbols import H, L, T, W

    first = model[0] if isinstance(model, Sequential) else model._order[1].module
    cin = getattr(first, "in_channels", None)
    dims = getattr(first, "_dims", None)
    if cin is None or dims not in (1, 2, 3):
        raise where.error(("input",), "no `input` given and the first layer does not tell the input shape; add "
                                      "e.g. `input: [3, H, W]`")
    return (cin, *{1: (L,), 2: (H, W), 3: (T, H, W)}[dims])


def load_spec(path_or_text, *, format: str | None = None) -> Spec:  # noqa: A002 - the natural name
    """Load a model spec: a ``.yaml``/``.yml``/``.toml`` path, an example name (:func:`examples`) or the text.

    Args:
        path_or_text: a :class:`pathlib.Path` or a string path ending in a spec suffix, an example name, or the
            spec itself (YAML unless it looks like TOML, or ``format`` says so).
        format: ``"yaml"`` or ``"toml"`` to force the format of text.

    Returns:
        A :class:`Spec` (``model, input_shape = load_spec(...)``). The model is validated by analysing it on
        its input shape.

    Raises:
        SymcnnError: naming the file, the line (YAML), the field and what is allowed.
    """
    if format not in (None, "yaml", "toml"):
        raise SymcnnError(f"load_spec: `format`={format!r} must be 'yaml', 'toml' or None")
    text, fmt, source = _source_text(path_or_text, format)
    data, marks = _read_yaml(text, source) if fmt == "yaml" else _read_toml(text, source)
    where = _Where(source, marks)
    if not isinstance(data, dict):
        raise where.error((), f"the spec must be a mapping with keys {', '.join(_TOP_KEYS)}, "
                              f"got {type(data).__name__}")
    for k in data:
        if k not in _TOP_KEYS:
            raise where.error((str(k),), f"unknown key {k!r}; allowed: {', '.join(_TOP_KEYS)}")
    b = _Builder(where)
    name = data.get("name", Path(source).stem if source != "<text>" else "spec")
    description = data.get("description", "")
    for key, v in (("name", name), ("description", description)):
        if not isinstance(v, str):
            raise where.error((key,), f"must be a string, got {type(v).__name__}")
    model, paths = b.network(data)
    shape = b.shape(data["input"], ("input",)) if "input" in data else _default_input(where, model)
    from ._analysis import analyze

    try:
        analyze(model, shape)
    except SymcnnError as e:
        m = re.match(r"layer \d+ '([^']*)'", str(e))
        path = paths.get(m.group(1), ("layers",)) if m else ("layers",)
        raise where.error(path, str(e)) from None
    if source.startswith("example "):
        source = source.removeprefix("example ")
    return Spec(model, shape, name, description, source)
