"""One catalog model exported to ONNX and read back: the comparison the CI sample and the bench sweep share.

``check(entry, exporter)`` builds the model on the CPU (fresh weights, eval), exports it with dynamic spatial
axes named as symcnn's symbols (``H``, ``W``; video ``T`` too) with PyTorch's TorchScript-based exporter
(``"legacy"``: ``dynamo=False``, its defaults: constant folding, BatchNorm folded into the convolutions) or the
dynamo exporter (``"dynamo"``), reads it with ``from_onnx`` and compares:

* shapes: the output shape at the catalog's three sizes with ``from_torch``'s and with onnxruntime's;
* MACs: at the three sizes with ``from_torch``'s (folding BatchNorm changes no MAC);
* params: with the file's parameters, counted independently of from_onnx: the elements of the file's distinct
  float initializers, less BatchNormalization's running statistics and the ones/zeros of GroupNorm's lowering
  (and ``from_torch``'s count is reported next to it: folding and the exporter's deduplication change it).

Returns a dict (JSON-ready): ``read`` (bool), ``equal`` (bool), ``error`` / ``diff`` (text), the counts, times.
"""

from __future__ import annotations

import io
import time
import warnings

import numpy as np


def export(module, example, exporter: str, names: dict) -> tuple[bytes, bool]:
    """(the ONNX bytes, dynamic?) of ``module`` on ``example``; each exporter falls back to static shapes when it
    cannot keep the spatial axes dynamic (the legacy exporter refuses adaptive pooling of a dynamic size, dynamo
    a guard on the sizes)."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "legacy":
            f = io.BytesIO()
            if sum(p.numel() for p in module.parameters()) * 4 > 1.9 * 2**30:  # protobuf's 2 GiB: external data
                import tempfile

                path = tempfile.mkdtemp(prefix="symcnn-onnx-") + "/model.onnx"
                torch.onnx.export(module, (example,), path, dynamo=False, input_names=["input"],
                                  dynamic_axes={"input": names})
                return path, True
            try:
                torch.onnx.export(module, (example,), f, dynamo=False, input_names=["input"],
                                  dynamic_axes={"input": names})
                return f.getvalue(), True
            except Exception:  # noqa: BLE001 - e.g. adaptive pooling of a dynamic size: export static sizes
                f = io.BytesIO()
                torch.onnx.export(module, (example,), f, dynamo=False, input_names=["input"])
                return f.getvalue(), False
        dims = {i: torch.export.Dim(n, min=2 if n == "T" else 16, max=1024) for i, n in names.items()}
        try:
            prog = torch.onnx.export(module, (example,), dynamo=True, verbose=False, dynamic_shapes=(dims,))
            return prog.model_proto.SerializeToString(), True
        except Exception:  # noqa: BLE001 - a guard on the spatial sizes: the static export is still a model
            prog = torch.onnx.export(module, (example,), dynamo=True, verbose=False)
            return prog.model_proto.SerializeToString(), False


def file_parameters(proto) -> int:
    """The file's parameters, counted from its initializers alone (see the module docstring)."""
    from onnx import TensorProto

    direct: dict[str, list] = {}
    for node in proto.graph.node:
        for i, name in enumerate(node.input):
            direct.setdefault(name, []).append((node, i))

    def final(name, seen=()):  # the uses through the exporter's Identity aliases (deduplicated initializers)
        out = []
        for node, i in direct.get(name, []):
            if node.op_type == "Identity" and node.output[0] not in seen:
                out += final(node.output[0], (*seen, node.output[0]))
            else:
                out.append((node, i))
        return out

    users = {t.name: final(t.name) for t in proto.graph.initializer}
    marked = {v.name for v in proto.graph.value_info for p in v.metadata_props
              if p.key == "pkg.torch.export.graph_signature.InputSpec.kind" and p.value == "PARAMETER"}
    producers = {o: n for n in proto.graph.node for o in n.output}
    total = 0
    for t in proto.graph.initializer:
        if t.data_type not in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16):
            continue
        uses = users.get(t.name, [])
        if uses and all(n.op_type == "BatchNormalization" and i >= 3 for n, i in uses):
            continue  # running statistics
        if uses and all(n.op_type == "InstanceNormalization" and i >= 1 and n.input[0] in producers
                        and producers[n.input[0]].op_type == "Reshape" for n, i in uses):
            continue  # GroupNorm's lowering: scale 1, bias 0 of the (N, G, -1) view
        if not uses or all(n.op_type in ("Reshape", "Resize", "Pad", "Slice", "Expand", "Tile") and i >= 1
                           for n, i in uses):
            continue  # shapes, scales, pads
        if len(t.dims) == 0 and t.name not in marked:
            continue  # a scalar operand (x * 0.5), unless the file marks it as a parameter (dynamo's signature)
        n = 1
        for d in t.dims:
            n *= d
        total += n
    return total


def _ort_shape(session, full):
    name = session.get_inputs()[0].name
    return tuple(session.run(None, {name: np.zeros(full, np.float32)})[0].shape[1:])


def check(entry, exporter: str) -> dict:
    import onnx
    import onnxruntime as ort
    import torch

    import symcnn as sc
    from symcnn.interop.onnx import from_onnx

    ort.set_default_logger_severity(3)
    out = {"library": entry.library, "model": entry.name, "exporter": exporter, "read": False, "equal": False}
    torch.manual_seed(0)
    t = time.perf_counter()
    module = entry.build(device="cpu")
    names = {2: "T", 3: "H", 4: "W"} if entry.task == "video" else {2: "H", 3: "W"}
    size0 = entry.sizes[0]
    example = torch.zeros(1, 3, *size0)
    if entry.task == "segmentation":
        module = _Out(module)
    try:
        data, dynamic = export(module, example, exporter, names)
    except Exception as e:  # noqa: BLE001 - the exporter's own failure is reported, not symcnn's
        out["error"] = f"export failed: {type(e).__name__}: {str(e)[:200]}"
        return out
    out["dynamic"] = dynamic
    out["export_s"] = round(time.perf_counter() - t, 2)
    proto = onnx.load(data, load_external_data=False) if isinstance(data, str) else onnx.load_from_string(data)
    out["opset"] = max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    out["nodes"] = len(proto.graph.node)
    t = time.perf_counter()
    try:
        g = from_onnx(data if isinstance(data, str) else proto)
        a = sc.analyze(g, g.input_shape)
    except sc.SymcnnError as e:
        out["error"] = str(e)[:400]
        return out
    out["read"] = True
    out["read_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    ref = sc.analyze(entry.import_model(), entry.input_shape)
    out["from_torch_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    diffs = []
    out["params"], out["file_params"], out["torch_params"] = int(a.params), file_parameters(proto), int(ref.params)
    if out["params"] != out["file_params"]:
        diffs.append(f"params {out['params']} != file {out['file_params']}")
    for size in entry.sizes if dynamic else entry.sizes[:1]:
        subs = entry.substitution(size)
        mine = a.subs(**subs) if dynamic else a
        theirs = ref.subs(**subs)
        want = _ort_shape(session, (1, 3, *size))
        if not (tuple(mine.output_shape) == tuple(theirs.output_shape) == want):
            diffs.append(f"shape at {size}: {tuple(mine.output_shape)} / from_torch {tuple(theirs.output_shape)} "
                         f"/ onnxruntime {want}")
        if mine.macs != theirs.macs:
            diffs.append(f"MACs at {size}: {mine.macs} / from_torch {theirs.macs}")
    out["compare_s"] = round(time.perf_counter() - t, 2)
    out["equal"] = not diffs
    if diffs:
        out["diff"] = "; ".join(diffs)[:600]
    return out


def _module_out():
    import torch

    class Out(torch.nn.Module):
        """A segmentation model's ``{'out': ...}`` as its tensor (the exported graph's one output)."""

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m(x)["out"]

    return Out


def _Out(m):  # noqa: N802 - reads as the wrapper's class
    return _module_out()(m).eval()
