"""``training(model, input_shape, batch=B, ...)``: the cost of one training step as closed forms."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import sympy

from .._analysis import Analysis, LayerRecord, analyze_sample, batch_conditions
from .._errors import SymcnnError
from .._intmath import decide, pretty
from .._symbols import size_symbol
from ..layers._base import to_expr
from ._backward import backward_costs, has_matmul
from ._memory import (
    DTYPES,
    buffer_bytes,
    check_dtype,
    optimizer_state_factor,
    param_tensor_count,
)
from ._saved import Context, Tensor, layer_ops

__all__ = ["B", "training", "TrainingCost", "TrainingLayer", "QUANTITIES"]

B = size_symbol("B")  #: the batch size

#: the additive quantities of every per-layer row and of the totals
QUANTITIES = ("forward_macs", "backward_macs", "forward_flops", "backward_flops", "recompute_flops",
              "saved_activation_bytes", "parameter_bytes", "gradient_bytes", "optimizer_bytes", "master_bytes",
              "buffer_bytes")
ZERO = sympy.Integer(0)


@dataclass(frozen=True)
class TrainingLayer:
    """One layer call of a training step.

    ``saved_activation_bytes`` holds the storages this call is the *first* to save (a storage saved again later
    counts here only); ``checkpointed`` names the segment the call belongs to.
    """

    index: int
    name: str
    kind: str
    trainable: bool
    requires_grad: bool
    checkpointed: str | None
    forward_macs: sympy.Expr
    backward_macs: sympy.Expr
    forward_flops: sympy.Expr
    backward_flops: sympy.Expr
    recompute_flops: sympy.Expr
    saved_activation_bytes: sympy.Expr
    parameter_bytes: sympy.Expr
    gradient_bytes: sympy.Expr
    optimizer_bytes: sympy.Expr
    master_bytes: sympy.Expr
    buffer_bytes: sympy.Expr

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _torch_frozen(module) -> list[str]:
    """Names of the submodules of a ``torch.nn.Module`` whose own parameters all have ``requires_grad=False``
    (what :func:`symcnn.from_torch` names its layers by); a layer frozen only in part is refused."""
    names = []
    for name, mod in module.named_modules():
        flags = [p.requires_grad for p in mod.parameters(recurse=False)]
        if not flags or all(flags):
            continue
        if any(flags):
            raise SymcnnError(f"training: module '{name}' has some parameters with requires_grad=False and some "
                              "with True; symcnn freezes whole layers")
        names.append(name)
    return names


def _frozen_set(frozen, records: tuple[LayerRecord, ...]) -> set[int]:
    if frozen is None:
        return set()
    if hasattr(frozen, "named_modules") and hasattr(frozen, "parameters"):  # a torch module: read requires_grad
        frozen = _torch_frozen(frozen)
    if callable(frozen):
        out = set()
        for r in records:
            verdict = frozen(r)
            if not isinstance(verdict, bool):
                raise SymcnnError(f"training: the `frozen` predicate returned {verdict!r} for layer '{r.name}'; "
                                  "it must return True or False")
            if verdict:
                out.add(r.index)
        return out
    names = [frozen] if isinstance(frozen, str) else frozen
    if not isinstance(names, (list, tuple, set, frozenset)) or not all(isinstance(n, str) for n in names):
        raise SymcnnError(f"training: `frozen`={frozen!r} must be layer names (a name freezes every layer under it) "
                          "or a predicate taking a LayerRecord")
    out = set()
    for n in names:
        hit = {r.index for r in records if r.name == n or r.name.startswith(n + ".")}
        if not hit:
            raise SymcnnError(f"training: `frozen` name {n!r} matches no layer; names look like "
                              f"{', '.join(r.name for r in records[:4])}, ...")
        out |= hit
    return out


def _inside(path: str, module: str) -> bool:
    """Whether ``path`` is submodule ``module`` or under it (``"layer1.0.conv"`` is under ``"layer1"``)."""
    return path == module or path.startswith(module + ".")


def _segments(checkpoint, records) -> dict[int, str]:
    """call index -> segment name, for ``checkpoint=["layer1", "layer2.0", ...]`` (submodule names)."""
    if checkpoint is None:
        return {}
    names = [checkpoint] if isinstance(checkpoint, str) else checkpoint
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise SymcnnError(f"training: `checkpoint`={checkpoint!r} must be a list of submodule names such as "
                          "['layer1', 'layer2'] (each one checkpointed segment)")
    where: dict[int, str] = {}
    for n in names:
        hit = [r.index for r in records if _inside(r.name, n)
               or _inside(getattr(r.layer, "_torch_scope", ""), n)]  # from_torch: a function called in the block
        if not hit:
            raise SymcnnError(f"training: `checkpoint` segment {n!r} matches no layer")
        if hit != list(range(hit[0], hit[-1] + 1)):
            raise SymcnnError(f"training: `checkpoint` segment {n!r} is not a contiguous run of layers")
        for i in hit:
            if i in where:
                raise SymcnnError(f"training: `checkpoint` segments {where[i]!r} and {n!r} overlap")
            where[i] = n
    return where


def _mixed(where: str, mixed_precision, dtype: str) -> str | None:
    if mixed_precision is None:
        return None
    low = check_dtype(where, "mixed_precision", mixed_precision, ("bfloat16", "float16"))
    if dtype != "float32":
        raise SymcnnError(f"{where}: `mixed_precision`={mixed_precision!r} (autocast) keeps float32 weights; "
                          f"`dtype` must be 'float32', got {dtype!r}")
    return low


def training(model, input_shape, *, batch=B, dtype="float32", optimizer="adam", frozen=None, inplace=False,
             checkpoint=None, mixed_precision=None, master_weights=False, device="cuda",
             input_requires_grad=False) -> TrainingCost:
    """The cost of one training step (forward, backward, optimizer state) of ``model`` as closed forms.

    Args:
        model: a layer or network (or an :class:`~symcnn.Analysis` of batch 1).
        input_shape: ``(C, *spatial)`` without the batch dimension; symbols stay symbolic.
        batch: the batch size (default the symbol ``B``).
        dtype: parameter and activation dtype: ``"float32"``, ``"float16"``, ``"bfloat16"``, ``"float64"``.
        optimizer: ``"sgd"``, ``"sgd_momentum"``, ``"adam"`` or ``"adamw"``.
        frozen: layer names (a name freezes every layer under it), a predicate on a
            :class:`~symcnn.LayerRecord`, or the ``torch.nn.Module`` a network was imported from with
            :func:`symcnn.from_torch` (its parameters' ``requires_grad`` are read): those layers' parameters do
            not require grad.
        inplace: run every activation that has an in-place form in place (layers built with ``inplace=True``
            are in place anyway).
        checkpoint: submodule names, each one segment run under ``torch.utils.checkpoint`` (non-reentrant).
        mixed_precision: ``"bfloat16"`` / ``"float16"``: autocast (float32 weights, low-precision activations).
        master_weights: with a low-precision ``dtype``, keep a float32 master copy of the trainable parameters
            (and the optimizer state in float32).
        device: ``"cuda"`` (default) or ``"cpu"``: dropout masks and autocast's float32 ops differ; Adam's
            ``step`` scalars live in CPU memory.
        input_requires_grad: the network input requires grad (the model is part of a larger network): the
            first layers then compute their input gradient too.

    Examples:
        >>> import symcnn as sc
        >>> t = training(sc.Sequential(sc.Conv2d(3, 8, 3), sc.ReLU()), (3, sc.H, sc.W), optimizer="sgd")
        >>> t.backward_macs                           # weight gradient only: the input does not require grad
        216*B*(H - 2)*(W - 2)
        >>> t.saved_activation_bytes                  # the conv's input and the ReLU's output, float32
        12*B*H*W + 32*B*(H - 2)*(W - 2)
    """
    where = "training"
    dtype = check_dtype(where, "dtype", dtype)
    low = _mixed(where, mixed_precision, dtype)
    slots, has_step = optimizer_state_factor(where, optimizer)
    if device not in ("cuda", "cpu"):
        raise SymcnnError(f"{where}: `device`={device!r} must be 'cuda' or 'cpu'")
    for name, flag in (("inplace", inplace), ("master_weights", master_weights),
                       ("input_requires_grad", input_requires_grad)):
        if not isinstance(flag, bool):
            raise SymcnnError(f"{where}: `{name}`={flag!r} must be True or False")
    if master_weights and dtype not in ("float16", "bfloat16"):
        raise SymcnnError(f"{where}: `master_weights`=True needs a float16/bfloat16 `dtype`, got {dtype!r}")
    if isinstance(model, Analysis):
        if model.batch != 1:
            raise SymcnnError(f"{where}: give an Analysis of batch 1 (this one has batch={model.batch})")
        analysis = model
    else:
        analysis = _analysis(model, input_shape)
    batch = to_expr(where, "batch", batch, minimum=1)
    records = analysis.layers
    conditions = tuple(batch_conditions(records, batch, training=True))  # BatchNorm's statistics in training mode
    frozen_idx = _frozen_set(frozen, records)
    segment = _segments(checkpoint, records)
    ctx = Context(batch, dtype, low, device, inplace)
    pbytes = DTYPES[dtype]
    # master copy and optimizer state in float32 with master weights, else in the parameter dtype
    state_bytes = 4 if master_weights else pbytes

    x = Tensor(("input",), dtype, sympy.Mul(batch, *analysis.input_shape))
    tensors: list[Tensor] = []
    req: list[bool] = []
    first_saver: dict[tuple, tuple[int, sympy.Expr]] = {}
    seg_saved: dict[str, dict[tuple, sympy.Expr]] = {}
    seg_last_saver: dict[str, int] = {}
    rows = []
    trainable_by_layer: dict[int, bool] = {}
    for rec in records:
        ins = [x if r < 0 else tensors[r] for r in rec.inputs]
        in_req = [input_requires_grad if r < 0 else req[r] for r in rec.inputs]
        has_params = rec.layer is not None and (rec.params != 0 or rec.shared)
        trainable = trainable_by_layer.setdefault(id(rec.layer), has_params and rec.index not in frozen_idx)
        saved, out, inplace_of = layer_ops(rec, ins, in_req, trainable, ctx, {})
        if inplace_of is not None and inplace_of.key in first_saver and segment.get(rec.index) is None:
            owner = records[first_saver[inplace_of.key][0]]
            if owner.index != rec.index:
                raise SymcnnError(
                    f"{where}: layer {rec.index} '{rec.name}' runs in place on a tensor that layer "
                    f"'{owner.name}' saved for the backward pass; PyTorch would fail in backward (a variable "
                    "needed for gradient computation has been modified by an inplace operation)"
                )
        seg = segment.get(rec.index)
        own = ZERO
        if seg is not None:
            if seg not in seg_saved:  # the segment's inputs are what the checkpoint keeps
                seg_saved[seg] = {}
            for r in rec.inputs:
                if r < 0 or segment.get(r) != seg:
                    t = x if r < 0 else tensors[r]
                    if t.key not in first_saver:
                        first_saver[t.key] = (rec.index, t.nbytes)
                        own += t.nbytes
            for t in saved:
                seg_saved[seg].setdefault(t.key, t.nbytes)
            if saved:
                seg_last_saver[seg] = rec.index
        else:
            for t in saved:
                if t.key not in first_saver:
                    first_saver[t.key] = (rec.index, t.nbytes)
                    own += t.nbytes
        tensors.append(out)
        req.append(any(in_req) or trainable)
        gi, gw, bflops = backward_costs(rec.layer, rec.macs * batch, any(in_req), trainable)
        first_use = not rec.shared
        n_params = rec.params if first_use else ZERO
        n_train = n_params if trainable else ZERO
        n_tensors = param_tensor_count(rec.layer) if (first_use and trainable) else 0
        step = 4 * n_tensors if (has_step and device == "cpu") else 0
        fwd_flops = 2 * rec.macs * batch if has_matmul(rec.layer) else ZERO
        rows.append(dict(
            index=rec.index, name=rec.name, kind=rec.kind, trainable=trainable, requires_grad=req[-1],
            checkpointed=seg, forward_macs=rec.macs * batch, backward_macs=gi + gw, forward_flops=fwd_flops,
            backward_flops=bflops if req[-1] else ZERO, recompute_flops=ZERO, saved_activation_bytes=own,
            parameter_bytes=n_params * pbytes, gradient_bytes=n_train * pbytes,
            optimizer_bytes=slots * n_train * state_bytes + step,
            master_bytes=n_train * 4 if master_weights else ZERO,
            buffer_bytes=buffer_bytes(rec.layer, rec.buffers, dtype) if first_use else ZERO,
        ))
    # the recomputation stops early (PyTorch's default): as soon as the segment's last saving layer has saved its
    # tensors, which autograd does before that layer computes, so its own forward is not repeated
    for row in rows:
        seg = row["checkpointed"]
        if seg is not None and row["index"] < seg_last_saver.get(seg, -1):
            row["recompute_flops"] = row["forward_flops"]
    # while a segment's backward runs, its recomputed saved tensors exist beside everything kept (its inputs,
    # which the recomputation reuses, are already counted)
    peak = max((sympy.Add(*(v for k, v in d.items() if k not in first_saver)) for d in seg_saved.values()),
               default=ZERO, key=_size_key)
    layers = tuple(TrainingLayer(**r) for r in rows)
    options = dict(batch=batch, dtype=dtype, optimizer=optimizer, frozen=frozen, inplace=inplace,
                   checkpoint=checkpoint, mixed_precision=low, master_weights=master_weights, device=device,
                   input_requires_grad=input_requires_grad)
    return TrainingCost(analysis, layers, peak, options, tuple(seg_saved), conditions)


_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8


def _analysis(model, input_shape) -> Analysis:
    """``analyze(model, input_shape)`` without its batch-1 checks (:func:`training` checks its own batch),
    remembered for the last few (model, shape) pairs: max_batch, the docs and a user trying several memories or
    options analyse the same model again. The entry holds the model, so its ``id`` cannot be reused while cached;
    layers and networks are immutable once built."""
    try:
        key = (id(model), tuple(input_shape))
        hash(key)
    except TypeError:
        return analyze_sample(model, input_shape)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is model:
        _CACHE.move_to_end(key)
        return hit[1]
    result = analyze_sample(model, input_shape)
    _CACHE[key] = (model, result)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


def _size_key(expr: sympy.Expr):
    """Order segment peaks by their value at a large size (all symbols 1000): a heuristic for symbolic peaks."""
    return expr.xreplace({s: 1000 for s in expr.free_symbols})


class TrainingCost:
    """The result of :func:`training`: totals and per-layer rows, all SymPy expressions.

    Attributes (each also a column of :attr:`per_layer`): ``forward_macs``, ``backward_macs``,
    ``forward_flops``/``backward_flops``/``recompute_flops`` (``torch.utils.flop_counter`` counting), ``flops``
    (their sum), ``saved_activation_bytes``, ``parameter_bytes``, ``gradient_bytes``, ``optimizer_bytes``,
    ``master_bytes``, ``buffer_bytes``, ``recompute_peak_bytes`` (the largest checkpointed segment's saved tensors,
    alive while its backward runs) and ``total_bytes`` (their sum). ``conditions``: what the batch must satisfy
    besides the analysis' conditions (a BatchNorm in training mode needs more than 1 value per channel, so
    ``B >= 2`` after a ``Linear``); :meth:`subs` refuses values that break one.
    """

    def __init__(self, analysis: Analysis, layers: tuple[TrainingLayer, ...], recompute_peak_bytes, options: dict,
                 segments: tuple[str, ...], conditions: tuple = ()):
        self.analysis = analysis
        self.conditions = conditions
        self.per_layer = layers
        self.recompute_peak_bytes = recompute_peak_bytes
        self.options = options
        self.segments = segments
        for q in QUANTITIES:
            setattr(self, q, sympy.Add(*[getattr(r, q) for r in layers]))
        self.flops = self.forward_flops + self.backward_flops + self.recompute_flops
        self.total_bytes = (self.parameter_bytes + self.gradient_bytes + self.optimizer_bytes + self.master_bytes
                            + self.buffer_bytes + self.saved_activation_bytes + self.recompute_peak_bytes)

    @property
    def batch(self):
        return self.options["batch"]

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """The symbols of the totals and of the batch (which a cost may not depend on: a model of parameters only
        still has its batch size)."""
        return set(self.total_bytes.free_symbols | self.flops.free_symbols
                   | sympy.sympify(self.options["batch"]).free_symbols)

    def __getitem__(self, name: str) -> TrainingLayer:
        for r in self.per_layer:
            if r.name == name:
                return r
        raise KeyError(f"no layer named {name!r}")

    def subs(self, mapping=None, **kwargs) -> TrainingCost:
        """Substitute values for symbols (by symbol or by name), in every total and row."""
        by_name = {s.name: s for s in self.free_symbols | self.analysis.free_symbols}
        m = {}
        for key, value in list((mapping or {}).items()) + list(kwargs.items()):
            if isinstance(key, str):
                if key not in by_name:
                    raise SymcnnError(f"subs: `{key}` is not a symbol of this training cost "
                                      f"(symbols: {', '.join(sorted(by_name)) or 'none'})")
                key = by_name[key]
            m[key] = to_expr("subs", key.name, value)
        analysis = self.analysis.subs({k: v for k, v in m.items() if k in self.analysis.free_symbols})
        layers = tuple(dataclasses.replace(r, **{q: getattr(r, q).xreplace(m) for q in QUANTITIES})
                       for r in self.per_layer)
        options = dict(self.options, batch=sympy.sympify(self.options["batch"]).xreplace(m))
        conditions = []
        for c in self.conditions:
            rel = c.relation.xreplace(m)
            verdict = decide(rel)
            if verdict is False:
                values = ", ".join(f"{k}={pretty(v)}" for k, v in m.items())
                raise SymcnnError(f"subs: {c.where}: {c.message} (false for {values})")
            if verdict is None:
                conditions.append(dataclasses.replace(c, relation=rel))
        return TrainingCost(analysis, layers, self.recompute_peak_bytes.xreplace(m), options, self.segments,
                            tuple(conditions))

    def totals(self) -> dict[str, sympy.Expr]:
        out = {q: getattr(self, q) for q in QUANTITIES}
        out.update(flops=self.flops, recompute_peak_bytes=self.recompute_peak_bytes, total_bytes=self.total_bytes)
        return out

    def table(self, columns=("forward_macs", "backward_macs", "saved_activation_bytes", "parameter_bytes"),
              fmt: str = "text") -> str:
        """Per-layer table with totals: ``fmt`` is ``"text"``, ``"markdown"`` or ``"csv"``."""
        return render_rows(self, columns, fmt)

    def _repr_html_(self) -> str:
        return render_rows(self, ("forward_macs", "backward_macs", "saved_activation_bytes", "parameter_bytes"),
                           "html")

    def __repr__(self) -> str:
        return f"<TrainingCost total_bytes={pretty(self.total_bytes)} flops={pretty(self.flops)}>"


def render_rows(cost: TrainingCost, columns, fmt: str) -> str:
    """The per-layer rows of ``cost`` and a total row as text, Markdown, CSV or HTML."""
    import html

    if isinstance(columns, str) or not isinstance(columns, (list, tuple)):
        raise SymcnnError(f"table: `columns`={columns!r} must be a list or tuple of names from {', '.join(QUANTITIES)}")
    bad = [c for c in columns if not isinstance(c, str) or c not in QUANTITIES]
    if bad:
        raise SymcnnError(f"table: unknown column(s) {', '.join(map(repr, bad))}; use {', '.join(QUANTITIES)}")
    if fmt not in ("text", "markdown", "csv", "html"):
        raise SymcnnError(f"table: `fmt`={fmt!r} must be 'text', 'markdown', 'csv' or 'html'")
    head = ["#", "name", "kind", "trainable", *columns]
    rows = [[str(r.index), r.name, r.kind, "yes" if r.trainable else "", *(pretty(getattr(r, c)) for c in columns)]
            for r in cost.per_layer]
    rows.append(["", "total", "", "", *(pretty(getattr(cost, c)) for c in columns)])
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([head, *rows])
        return buf.getvalue()
    if fmt == "markdown":
        esc = lambda s: s.replace("|", "\\|")  # noqa: E731
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows])
    if fmt == "html":
        cell = lambda tag, s: f"<{tag}>{html.escape(s)}</{tag}>"  # noqa: E731
        body = "".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in rows)
        return f"<table><tr>{''.join(cell('th', h) for h in head)}</tr>{body}</table>"
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


Predicate = Callable[[LayerRecord], bool]
