"""Training cost without PyTorch: identities of the closed forms, options, max_batch / max_input_size, refusals."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import H, W
from symcnn.training import B, max_batch, max_input_size, parse_memory, train_cost_table, training

CPU = {"device": "cpu"}


def small_net():
    return sc.Sequential(sc.Conv2d(3, 8, 3, padding=1), sc.BatchNorm2d(8), sc.ReLU(), sc.MaxPool2d(2),
                         sc.Conv2d(8, 8, 3, padding=1, groups=2), sc.ReLU(), sc.AdaptiveAvgPool2d(1), sc.Flatten(),
                         sc.Dropout(0.2), sc.Linear(8, 10))


# --- memory strings -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("24 GiB", 24 * 2**30), ("16GB", 16 * 10**9), ("512 mib", 512 * 2**20), ("1.5 KiB", 1536), ("1000", 1000),
    (" 2 TB ", 2 * 10**12), ("7 bytes", 7), (123, 123),
])
def test_parse_memory(text, expected):
    assert parse_memory("t", text) == expected


@pytest.mark.parametrize("text", ["24 GiB; rm -rf", "1e9", "-5GB", "", "GB", "24 XB", "__import__('os')", "0",
                                  True, 2.5, "2 PiB", "9" * 50])
def test_parse_memory_refuses(text):
    with pytest.raises(sc.SymcnnError, match="memory"):
        parse_memory("max_batch", text)


@given(st.integers(1, 10**6), st.sampled_from([("KiB", 2**10), ("MB", 10**6), ("gib", 2**30), ("B", 1)]))
@settings(max_examples=50, deadline=None)
def test_parse_memory_property(n, unit):
    name, factor = unit
    if n * factor <= 2**50:
        assert parse_memory("t", f"{n} {name}") == n * factor


# --- identities of the closed forms ---------------------------------------------------------------------------

def test_backward_macs_identity_on_zoo():
    """Nothing frozen: every conv/linear computes its weight gradient, and all but the first its input gradient."""
    for name in ("resnet18", "mobilenet_v2", "squeezenet1_1"):
        t = training(sc.models.get(name), (3, H, W))
        first = t.per_layer[0]
        assert first.kind == "Conv2d"
        assert sympy.expand(t.backward_macs - (2 * t.forward_macs - first.forward_macs)) == 0
        assert t.forward_flops == 2 * t.forward_macs


def test_depthwise_weight_gradient_counts_groups_times():
    t = training(sc.Sequential(sc.Conv2d(4, 4, 3, groups=4), sc.ReLU()), (4, 8, 8), batch=1, **CPU)
    macs = 4 * 9 * 6 * 6
    assert t.backward_macs == macs and t.backward_flops == 2 * 4 * macs


def test_frozen_names_and_predicate_agree():
    net = small_net()
    by_name = training(net, (3, H, W), frozen=["0", "1"], **CPU)
    by_pred = training(net, (3, H, W), frozen=lambda r: r.name in ("0", "1"), **CPU)
    assert by_name.totals() == by_pred.totals()
    # the frozen stem gets no gradient at all: no backward for it, and it saves nothing
    for row in by_name.per_layer[:4]:
        assert row.backward_macs == 0 and row.saved_activation_bytes == 0 and not row.requires_grad
    assert by_name.gradient_bytes == 4 * (8 * 4 * 9 + 8 + 8 * 10 + 10)  # grouped conv, linear


def test_optimizer_state():
    net = small_net()
    base = training(net, (3, H, W), optimizer="sgd", **CPU)
    params = base.parameter_bytes
    assert base.optimizer_bytes == 0 and base.gradient_bytes == params
    assert training(net, (3, H, W), optimizer="sgd_momentum", **CPU).optimizer_bytes == params
    tensors = 2 + 2 + 2 + 2  # conv w+b, bn w+b, conv w+b, linear w+b: one float32 step each on CPU
    for name in ("adam", "adamw"):
        assert training(net, (3, H, W), optimizer=name, **CPU).optimizer_bytes == 2 * params + 4 * tensors
        assert training(net, (3, H, W), optimizer=name).optimizer_bytes == 2 * params  # cuda: step on the host


def test_dtypes_and_master_weights():
    net = sc.Sequential(sc.Conv2d(3, 8, 3), sc.ReLU(), sc.Conv2d(8, 8, 3))
    f32 = training(net, (3, H, W), optimizer="adam")
    f64 = training(net, (3, H, W), optimizer="adam", dtype="float64")
    half = training(net, (3, H, W), optimizer="adam", dtype="bf16", master_weights=True)
    assert f64.saved_activation_bytes == 2 * f32.saved_activation_bytes
    assert f64.total_bytes == 2 * f32.total_bytes
    params = f32.parameter_bytes / 4
    assert half.parameter_bytes == 2 * params and half.master_bytes == 4 * params
    assert half.optimizer_bytes == 8 * params and half.gradient_bytes == 2 * params


def test_checkpoint_keeps_segment_inputs_and_recomputes():
    net = sc.Sequential(sc.Conv2d(3, 8, 3, padding=1), sc.ReLU(),
                        sc.Sequential(sc.Conv2d(8, 8, 3, padding=1), sc.ReLU(), sc.Conv2d(8, 8, 3, padding=1)),
                        sc.ReLU())
    plain = training(net, (3, H, W), **CPU)
    ck = training(net, (3, H, W), checkpoint=["2"], **CPU)
    act = 4 * B * 8 * H * W
    # inside the segment: conv input (the first ReLU's output: kept as the segment input), ReLU output (dropped,
    # recomputed: the peak while the segment's backward runs), conv input (that same ReLU output)
    assert sympy.expand(plain.saved_activation_bytes - ck.saved_activation_bytes - act) == 0
    assert ck.recompute_flops == 2 * B * 8 * 8 * 9 * H * W  # the first conv only: recomputation stops early
    assert sympy.expand(ck.recompute_peak_bytes - act) == 0
    assert ck.flops == plain.flops + ck.recompute_flops


def test_subs_and_table():
    t = training(small_net(), (3, H, W), optimizer="adam", **CPU)
    n = t.subs(B=4, H=32, W=48)
    assert n.total_bytes == t.total_bytes.xreplace({B: 4, H: 32, W: 48})
    assert n.total_bytes.is_Integer
    text = n.table()
    assert "total" in text and "Conv2d" in text
    assert n.table(fmt="csv").splitlines()[0].startswith("#,name,kind")
    assert "<table>" in n._repr_html_()
    with pytest.raises(sc.SymcnnError, match="not a symbol"):
        t.subs(Q=3)


def test_train_cost_table_for_the_cli():
    text = train_cost_table("resnet18", (3, 64, 64), batch=2, optimizer="adam", memory="1 GiB", per_layer=False)
    assert "max_batch" in text and "total_bytes" in text
    import json

    data = json.loads(train_cost_table("resnet18", batch=B, fmt="json"))
    assert "B*" in data["saved_activation_bytes"]


# --- max_batch / max_input_size --------------------------------------------------------------------------------

@given(st.integers(8, 64), st.integers(10**5, 10**9), st.sampled_from(["sgd", "adam"]),
       st.sampled_from([None, "bfloat16"]))
@settings(max_examples=25, deadline=None)
def test_max_batch_fits_and_one_more_does_not(size, memory, optimizer, mixed):
    net = small_net()
    cost = training(net, (3, size, size), optimizer=optimizer, mixed_precision=mixed)
    total = cost.total_bytes
    if total.xreplace({B: 1}) > memory:
        with pytest.raises(sc.SymcnnError, match="even batch=1"):
            max_batch(net, (3, size, size), memory=memory, optimizer=optimizer, mixed_precision=mixed)
        return
    n = max_batch(net, (3, size, size), memory=memory, optimizer=optimizer, mixed_precision=mixed)
    assert total.xreplace({B: n}) <= memory < total.xreplace({B: n + 1})


@pytest.mark.parametrize(("batch", "memory"), [(1, "4 MiB"), (8, "64 MiB"), (32, "1 GiB")])
def test_max_input_size_fits_and_one_more_does_not(batch, memory):
    net = small_net()
    s = max_input_size(net, batch=batch, memory=memory, optimizer="adam")
    limit = parse_memory("t", memory)

    def total(n):
        return training(net, (3, n, n), batch=batch, optimizer="adam").total_bytes

    assert total(s) <= limit < total(s + 1)


def test_max_input_size_steps_down_to_an_accepted_size():
    net = sc.Sequential(sc.Conv2d(3, 4, 3), sc.Flatten(), sc.Linear(4 * 30 * 30, 2))  # accepts only 32 x 32
    assert max_input_size(net, batch=1, memory="1 GiB", optimizer="sgd") == 32
    with pytest.raises(sc.SymcnnError, match="does not fit"):
        max_input_size(net, batch=1, memory="1 KiB", optimizer="sgd")


def test_max_batch_refusals():
    with pytest.raises(sc.SymcnnError, match="symbol"):
        max_batch(small_net(), (3, H, 32), memory="1 GiB")
    with pytest.raises(sc.SymcnnError, match="even batch=1"):
        max_batch(sc.models.resnet18(), (3, 224, 224), memory="10 MB")
    with pytest.raises(sc.SymcnnError, match="batch"):
        max_batch(small_net(), (3, 32, 32), memory="1 GiB", batch=4)


# --- refusals ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "match"), [
    ({"dtype": "int8"}, "dtype"),
    ({"optimizer": "lion"}, "optimizer"),
    ({"frozen": ["nope"]}, "matches no layer"),
    ({"frozen": lambda r: 1}, "True or False"),
    ({"frozen": 3}, "frozen"),
    ({"checkpoint": ["nope"]}, "matches no layer"),
    ({"checkpoint": ["0", "0"]}, "overlap"),
    ({"mixed_precision": "bfloat16", "dtype": "float16"}, "float32"),
    ({"mixed_precision": "int8"}, "mixed_precision"),
    ({"master_weights": True}, "master_weights"),
    ({"device": "tpu"}, "device"),
    ({"inplace": "yes"}, "inplace"),
    ({"batch": 0}, "batch"),
])
def test_option_refusals(kwargs, match):
    with pytest.raises(sc.SymcnnError, match=match):
        training(small_net(), (3, H, W), **kwargs)


def test_refuses_what_pytorch_refuses():
    # batch norm in training mode with one value per channel
    with pytest.raises(sc.SymcnnError, match="1 value per channel"):
        training(sc.Sequential(sc.Conv2d(3, 4, 3), sc.BatchNorm2d(4)), (3, 3, 3), batch=1)
    # an in-place ReLU on a tensor that max pooling saved: PyTorch's backward would fail
    x = sc.Input()
    y = sc.Conv2d(3, 4, 3, padding=1)(x)
    pooled = sc.MaxPool2d(2)(y)
    relu = sc.ReLU(inplace=True)(y)
    net = sc.Graph(x, sc.Concat()(sc.MaxPool2d(2)(relu), pooled))
    with pytest.raises(sc.SymcnnError, match="in place"):
        training(net, (3, 8, 8))
    with pytest.raises(sc.SymcnnError, match="Opaque"):
        training(sc.Opaque("f", lambda s: s), (3, 8, 8))


def test_inplace_relu_shares_storage():
    net = sc.Sequential(sc.Conv2d(3, 8, 3), sc.ReLU(), sc.Conv2d(8, 8, 3), sc.ReLU6(), sc.Conv2d(8, 8, 3))
    plain = training(net, (3, H, W))
    inplace = training(net, (3, H, W), inplace=True)
    # ReLU in place: the same bytes (its output is kept either way); ReLU6 in place saves a copy: the same too
    assert plain.saved_activation_bytes == inplace.saved_activation_bytes
    with_bn = sc.Sequential(sc.Conv2d(3, 8, 3), sc.BatchNorm2d(8), sc.ReLU6(), sc.Conv2d(8, 8, 3))
    assert (training(with_bn, (3, H, W)).saved_activation_bytes
            == training(with_bn, (3, H, W), inplace=True).saved_activation_bytes)


def test_lazy_names():
    assert sc.training is training and sc.max_batch is max_batch and sc.max_input_size is max_input_size


def test_training_page_is_generated_from_the_engine():
    from symcnn.docsgen._core import fitted, tex
    from symcnn.docsgen._training_page import PATH, page

    p = page(models=("resnet18",), plot_models=("resnet18",))
    text = p.text()
    assert p.path == PATH and text.count("<svg") == 2
    for f in p.formulas:  # every formula re-prints from its expression
        body = tex(f.expr) if not f.lhs else f"{f.lhs} = {tex(f.expr)}"
        assert f.tex == (fitted(body) if f.display else body) and f.tex in text  # long displays: aligned lines
    n = max_batch(sc.models.resnet18(), (3, 224, 224), memory="24 GiB", optimizer="adam")
    assert f"| {n} |" in text


def test_the_cli_prints_training_cost_and_the_largest_batch(capsys):
    from symcnn.cli import main

    assert main(["train-cost", "lenet5", "--batch", "1", "--optimizer", "sgd", "--totals"]) == 0
    out = capsys.readouterr().out
    assert "backward_macs           534600" in out and "total_bytes             573616" in out
    assert main(["train-cost", "resnet18", "--input", "3x64x64", "--memory", "1GiB", "--totals",
                 "--format", "json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    from symcnn.training import max_batch

    assert data["max_batch"] == max_batch(sc.models.resnet18(), (3, 64, 64), memory="1GiB")
    assert main(["train-cost", "resnet18", "--memory", "1GiB"]) == 2
    assert "--memory needs a numeric input shape" in capsys.readouterr().err
    assert main(["train-cost", "resnet18", "--optimizer", "lion"]) == 2


def test_subs_of_the_batch_when_the_cost_does_not_depend_on_it():
    """A cost without B (a view: nothing saved, nothing computed) still takes B=2 (was: "not a symbol")."""
    t = training(sc.Flatten(), (3, 4))
    assert t.total_bytes == t.flops == 0 and B in t.free_symbols
    n = t.subs(B=2)
    assert n.batch == 2 and n.total_bytes == 0
    with pytest.raises(sc.SymcnnError, match="`Q` is not a symbol of this training cost"):
        t.subs(Q=2)


def _linear_bn():
    return sc.Sequential(sc.Linear(3, 4), sc.BatchNorm1d(4))


def test_batch_norm_in_training_needs_more_than_one_value_per_channel():
    """PyTorch's batch_norm refuses one value per channel in training mode (batch 1 after a Linear); eval mode
    (analyze) uses the running statistics and takes it."""
    assert sc.analyze(_linear_bn(), (3,)).output_shape == (4,)
    t = training(_linear_bn(), (3,))
    assert [str(c) for c in t.conditions] == ["B >= 2"]
    assert t.subs(B=2).conditions == ()
    msg = r"layer 1 '1'.*more than 1 value per channel.*Expected more than 1 value per channel when training"
    with pytest.raises(sc.SymcnnError, match=msg + r".*false for B=1"):
        t.subs(B=1)
    with pytest.raises(sc.SymcnnError, match=r"\(BatchNorm1d\(4\)\) with input \(4,\) at batch 1: in training mode "
                                             "the batch statistics need more than 1 value"):
        training(_linear_bn(), (3,), batch=1)
    assert training(sc.Sequential(sc.Conv2d(3, 4, 1), sc.BatchNorm2d(4)), (3, 1, 2), batch=1).conditions == ()
    t = training(sc.Sequential(sc.Conv2d(3, 4, 1), sc.BatchNorm2d(4)), (3, H, W))
    assert [str(c) for c in t.conditions] == ["B*H*W >= 2"]
    # the largest batch that fits is 1, which the BatchNorm refuses
    one = int(training(_linear_bn(), (3,), batch=1 + 1).total_bytes) - 1
    assert max_batch(_linear_bn(), (3,), memory="1 MiB") > 2
    with pytest.raises(sc.SymcnnError, match="max_batch: the largest batch that fits is 1, but layer 1"):
        max_batch(_linear_bn(), (3,), memory=one)
    assert max_input_size(sc.Sequential(sc.Conv2d(3, 4, 1), sc.BatchNorm2d(4)), batch=1, memory="1 MiB") > 1


def test_group_norm_needs_more_than_one_value_per_group_at_its_batch():
    layer = sc.GroupNorm(4, 4)
    with pytest.raises(sc.SymcnnError, match=r"layer 0 'GroupNorm' \(GroupNorm\(4, 4\)\) with input \(4, 1, 1\) "
                                             r"at batch 1: the statistics of a group need more than 1 value"):
        sc.analyze(layer, (4, 1, 1))
    assert sc.analyze(layer, (4, 1, 1), batch=2).output_shape == (4, 1, 1)
    assert sc.analyze(sc.GroupNorm(2, 4), (4, 1, 1)).output_shape == (4, 1, 1)
    a = sc.analyze(layer, (4, H, 1))
    assert [str(c) for c in a.conditions] == ["H >= 2"]
    with pytest.raises(sc.SymcnnError, match="statistics of a group need more than 1 value.*false for H=1"):
        a.subs(H=1)
    t = training(layer, (4, 1, 1))  # training counts B samples: B >= 2 is a condition, not a refusal
    assert [str(c) for c in t.conditions] == ["B >= 2"]
