r"""The "Training cost" page: semantics, formulas per layer family, the zoo at 224, memory against batch and size.

Every formula and number is computed by :func:`symcnn.training` when the page is rendered (formulas through
:meth:`Page.formula`, so the docs tests can re-print them), so the page cannot drift from the engine.

>>> pages = render(models=("resnet18",), plot_models=("resnet18",))
>>> list(pages)
['reference/training.md']
>>> "| resnet18 |" in pages["reference/training.md"] and "<svg" in pages["reference/training.md"]
True
"""

from __future__ import annotations

import sympy

from .. import models as zoo
from .._symbols import C, F, H, K, P, S, W
from ..layers import (
    AdaptiveAvgPool2d,
    Add,
    BatchNorm2d,
    Concat,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    ReLU6,
    Sigmoid,
)
from ..training import B, training
from ..training._table import human_bytes
from ._core import Page, code

__all__ = ["render", "page", "PATH"]

PATH = "reference/training.md"
_SIZE = 224
_OTHER_SIZES = {"lenet5", "unet", "dcgan_generator", "dcgan_discriminator"}
_MEMORY = "24 GiB"


def _semantics(p: Page) -> None:
    p.add("## What is counted", "")
    p.para("`symcnn.training(model, (3, H, W), batch=B, dtype=\"float32\", optimizer=\"adam\")` describes one "
           "training step as PyTorch 2.x runs it: the model in train mode, the input not requiring grad. Every "
           "quantity is an exact SymPy expression in `B`, `H`, `W` (and any layer symbol), totalled and per "
           "layer (`t.per_layer`, `t.table()`).")
    p.add(
        "- **Forward and backward MACs.** A convolution's input gradient is the transposed convolution of the "
        "output gradient with the weight, its weight gradient the correlation of the input with the output "
        "gradient: each as many multiply-accumulates as the forward pass; linear layers likewise. No input "
        "gradient for a layer reading the network input (it does not require grad) nor for layers no gradient "
        "reaches; no weight gradient for frozen layers (`frozen=` names or a predicate).",
        "- **FLOPs** (`forward_flops`, `backward_flops`, `recompute_flops`, `flops`) are what "
        "`torch.utils.flop_counter.FlopCounterMode` reports: 2 per MAC of convolutions and matrix products, "
        "nothing else. Its weight-gradient formula does not divide by `groups`, so a grouped or depthwise "
        "convolution's weight gradient counts `groups` times its MACs; `backward_macs` keeps the true count.",
        "- **Saved activations** (`saved_activation_bytes`): the tensors autograd keeps for the backward pass at "
        "the end of the forward pass, counted once per storage (a ReLU output saved by the ReLU, the next "
        "convolution and a max pooling is one tensor). Parameters and buffers are not counted here (BatchNorm "
        "saves its running statistics, which are buffers).",
        "- **Parameters, gradients, optimizer state, buffers**: gradients and optimizer state only for trainable "
        "parameters; SGD keeps nothing, SGD with momentum one buffer, Adam/AdamW two moments and a float32 "
        "`step` scalar per parameter tensor (in CPU memory, so counted for `device=\"cpu\"` only). "
        "`dtype=\"bfloat16\", master_weights=True` adds a float32 master copy and keeps the optimizer state in "
        "float32.",
        "- **Total** (`total_bytes`): the sum, plus the saved tensors of the largest checkpointed segment while "
        "its backward pass runs (`recompute_peak_bytes`). `symcnn.max_batch` and `symcnn.max_input_size` "
        "search this closed form for the largest batch / square input that fits (the answer fits, one more "
        "does not).",
        "- **Not promised**: allocator rounding and fragmentation, cuDNN/oneDNN workspaces, the gradient "
        "tensors alive during the backward pass, the CUDA context. Real peaks are higher by these.",
        "",
    )


def _options(p: Page) -> None:
    p.add("## Options that change the formula", "")
    p.add(
        "- `inplace=True` (or layers built with `inplace=True`): ReLU, LeakyReLU, ELU/SELU/CELU overwrite their "
        "input and save that one tensor; ReLU6/Hardtanh, SiLU, Mish, Hardswish and Hardsigmoid in place save a "
        "*copy* of their input (PyTorch's derivative needs the original), so in place saves nothing for them. "
        "An in-place layer on a tensor another layer saved is refused, as PyTorch's backward would fail.",
        "- `checkpoint=[\"layer1\", \"layer3.1\"]`: each submodule runs under `torch.utils.checkpoint(..., "
        "use_reentrant=False)`. It keeps only its input tensors; its layers' saved tensors are recomputed in the "
        "backward pass, which repeats the segment's forward FLOPs (`recompute_flops`) up to its last layer that "
        "saves something (PyTorch stops the recomputation early, once that layer has saved its tensors, which "
        "autograd does before the layer computes) and holds the segment's saved tensors while it runs "
        "(`recompute_peak_bytes`).",
        "- `mixed_precision=\"bfloat16\"` / `\"float16\"` (autocast, float32 weights): convolutions and linear "
        "layers cast their input and weight to the low precision and save those copies (the weight copy is "
        "cached per trainable weight), so their outputs and everything downstream are low precision; batch norm "
        "saves its per-channel statistics in float32. Layers on autocast's float32 list cast a low-precision input "
        "to a float32 copy and save it: on CPU (measured) reflection and replication padding and 3-d pooling; "
        "on CUDA (read from `autocast_mode.cpp`, not measured here) softmax, log-softmax and softplus.",
        "- `device=\"cuda\"` (default) vs `\"cpu\"`: on CPU dropout saves its scaled noise tensor in the "
        "activation dtype; on CUDA `native_dropout` saves a bool mask (1 byte per element).",
        "",
    )


_FAMILIES = (
    ("Convolution", lambda: Conv2d(C, K, F, stride=S, padding=P), (C, H, W)),
    ("Linear", lambda: Linear(C, K), (C,)),
    ("Batch norm (training)", lambda: BatchNorm2d(C), (C, H, W)),
    ("ReLU (saves its output)", lambda: ReLU(), (C, H, W)),
    ("ReLU6, SiLU (save their input)", lambda: ReLU6(), (C, H, W)),
    ("Sigmoid", lambda: Sigmoid(), (C, H, W)),
    ("Max pooling", lambda: MaxPool2d(F, S), (C, H, W)),
    ("Adaptive average pooling to 1x1", lambda: AdaptiveAvgPool2d(1), (C, H, W)),
    ("Dropout (CPU; CUDA: 1 byte per element)", lambda: Dropout(0.5), (C, H, W)),
    ("Flatten, add, cat", lambda: Flatten(), (C, H, W)),
)


def _formulas(p: Page) -> None:
    p.add("## Formulas per layer family", "")
    p.para("One layer whose input requires grad (it is inside a network), batch `B`, float32, trainable, on CPU. "
           "The bytes are those the layer is the first to save; `F`, `S`, `P` are the kernel, stride and padding.")
    for title, build, shape in _FAMILIES:
        t = training(build(), shape, batch=B, optimizer="sgd", device="cpu", input_requires_grad=True)
        p.add(f"### {title}", "")
        p.formula(r"\text{backward MACs}", t.backward_macs)
        p.formula(r"\text{backward FLOPs}", t.backward_flops)
        p.formula(r"\text{saved bytes}", t.saved_activation_bytes)
    merged = training(_residual(), (C, H, W), batch=B, optimizer="sgd", device="cpu", input_requires_grad=True)
    p.para("A residual add and a concatenation save nothing of their own: in this block (conv, ReLU, add the "
           "input, concatenate with the input) only the convolution's input and the ReLU's output are kept: "
           + p.inline(merged.saved_activation_bytes, r"\text{saved bytes}") + ".")
    first = training(Conv2d(3, K, F, stride=S, padding=P), (3, H, W), batch=B, optimizer="sgd", device="cpu")
    p.para("The first layer of a network has no input gradient: a convolution on the 3-channel input computes "
           "only its weight gradient, " + p.inline(first.backward_macs, r"\text{backward MACs}") + ".")


def _residual():
    from .._graph import Graph, Input

    x = Input()
    y = ReLU()(Conv2d(C, C, 3, padding=1)(x))
    return Graph(x, Concat()(Add()(y, x), x))


def _zoo_names() -> tuple[str, ...]:
    return tuple(n for n in zoo.names() if n not in _OTHER_SIZES)


def _zoo_table(p: Page, names) -> None:
    from ..training import max_batch

    p.add(f"## The zoo at {_SIZE} x {_SIZE}", "")
    p.para(f"Saved activations grow by a fixed amount per sample; under bf16 autocast they also hold the bf16 "
           "copies of the weights once (independent of the batch). Float32 weights, `adam` state; largest batch "
           f"in {_MEMORY} by the closed form (`symcnn.max_batch`).")
    rows = []
    for name in names:
        model = zoo.get(name)
        shape = (3, _SIZE, _SIZE)
        t = training(model, shape, batch=B, optimizer="adam")
        low = training(model, shape, batch=B, optimizer="adam", mixed_precision="bfloat16")
        per, _ = _per_sample(t.saved_activation_bytes)
        per_low, copies = _per_sample(low.saved_activation_bytes)
        fixed = (t.parameter_bytes + t.gradient_bytes + t.optimizer_bytes + t.buffer_bytes).xreplace({B: 1})
        rows.append([name, human_bytes(per), human_bytes(per_low), human_bytes(copies), human_bytes(int(fixed)),
                     f"{int(t.flops.xreplace({B: 1})) / 1e9:.2f}",
                     str(max_batch(model, shape, memory=_MEMORY, optimizer="adam")),
                     str(max_batch(model, shape, memory=_MEMORY, optimizer="adam", mixed_precision="bfloat16"))])
    p.table(["model", "saved per sample", "saved per sample (bf16 autocast)", "bf16 weight copies",
             "params + grads + Adam + buffers", "GFLOPs per sample (fwd + bwd)", f"max batch ({_MEMORY})",
             "max batch (bf16 autocast)"], rows)


def _per_sample(expr) -> tuple[int, int]:
    """(bytes per sample, bytes independent of the batch) of an expression linear in ``B``."""
    poly = sympy.Poly(expr, B)
    if poly.degree() > 1:
        raise ValueError(f"not linear in B: {expr}")
    coeffs = poly.all_coeffs()
    return (int(coeffs[0]), int(coeffs[1])) if len(coeffs) == 2 else (0, int(coeffs[0]))


def _plots(p: Page, names) -> None:
    from ._plots import line_plot

    p.add("## Memory against batch and resolution", "")
    size = sympy.Symbol("S_side", integer=True, positive=True)
    by_batch, by_size = {}, {}
    batches = list(range(1, 257, 8))
    sizes = list(range(64, 513, 16))
    for name in names:
        t = training(zoo.get(name), (3, size, size), batch=B, optimizer="adam")
        total = t.total_bytes
        at224 = total.xreplace({size: _SIZE})
        by_batch[name] = (batches, [int(at224.xreplace({B: b})) / 2**30 for b in batches])
        at32 = total.xreplace({B: 32})
        by_size[name] = (sizes, [int(at32.xreplace({size: s})) / 2**30 for s in sizes])
    p.para("Total training memory (Adam, float32) from the closed form, against the batch at 224 x 224 and "
           "against the side of a square input at batch 32.")
    p.add(line_plot("Training memory at 224 x 224", "batch", "GiB", by_batch), "")
    p.add(line_plot("Training memory at batch 32", "input side (H = W)", "GiB", by_size), "")


def page(models: tuple[str, ...] | None = None, plot_models: tuple[str, ...] = ("resnet18", "resnet50",
                                                                                     "mobilenet_v2", "vgg16")) -> Page:
    """The page as a :class:`~symcnn.docsgen._core.Page` (formulas recorded for the docs tests)."""
    names = _zoo_names() if models is None else tuple(models)
    p = Page(PATH, "Training cost")
    p.para("Counters stop at the forward pass of one input size. `symcnn.training` gives the cost of a training "
           "step, backward FLOPs and the memory autograd keeps, as formulas in the batch and the input size, "
           "before anything runs; `symcnn.max_batch(model, (3, 224, 224), memory=\"24 GiB\", optimizer=\"adam\")` "
           "answers \"what is the largest batch that fits\" without trying batch sizes until one fails. Every rule "
           "below is tested against PyTorch (2.14 in CI; `FlopCounterMode` on forward + backward, and the storages a "
           "`saved_tensors_hooks` pack hook sees), with frozen layers, in-place activations, checkpointed segments "
           "and bf16 autocast.")
    p.para("Usage: " + code("t = symcnn.training(symcnn.models.resnet50(), (3, H, W), batch=B, optimizer='adam')")
           + ", then `t.flops`, `t.saved_activation_bytes`, `t.total_bytes`, `t.per_layer`, `t.subs(B=32, H=224, "
           "W=224)`.")
    _semantics(p)
    _options(p)
    _formulas(p)
    _zoo_table(p, names)
    _plots(p, plot_models)
    return p


def render(models: tuple[str, ...] | None = None, plot_models=("resnet18", "resnet50", "mobilenet_v2",
                                                                "vgg16")) -> dict[str, str]:
    """``{"reference/training.md": markdown}``; ``models`` restricts the zoo table (default: the zoo at 224)."""
    p = page(models, tuple(plot_models))
    return {p.path: p.text()}
