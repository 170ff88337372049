"""Hot paths of deep symbolic networks (issue 13): no work is spent on messages that are never shown, and the
printer's caches do not change what it prints."""

from __future__ import annotations

import symcnn as sc
from symcnn.layers import _base, conv, pool, transposed
from symcnn.present import _notation


def _count_fmt(monkeypatch):
    calls = []

    def counting(value):
        calls.append(value)
        return _notation.fmt(value)

    for module in (conv, pool, transposed, _base):
        monkeypatch.setattr(module, "fmt", counting)
    return calls


def test_decided_conditions_build_no_message(monkeypatch):
    net = sc.Sequential(
        sc.Conv2d(8, 8, 3, padding=1), sc.MaxPool2d(3, 2, 1), sc.MaxPool2d(2, 2, ceil_mode=True),
        sc.ConvTranspose2d(8, 8, 2, 2), sc.ReLU(),
    )
    calls = _count_fmt(monkeypatch)
    a = sc.analyze(net, (8, sc.H + 4, sc.W + 4))
    assert a.output_shape[0] == 8
    assert calls == []


def test_undecided_condition_still_has_its_message():
    a = sc.analyze(sc.Conv2d(8, 8, sc.F), (8, sc.H, sc.W))
    texts = [c.message for c in a.conditions if "kernel" in c.message]
    assert texts and all("F" in t and "padded input" in t for t in texts)


def test_printer_cache_prints_the_same():
    expr = 3 * sc.P * sc.F + 2 * sc.W - 7
    first = sc.pretty(expr), _notation.pretty(expr, unicode=True)
    _notation._MUL_TEXT.clear()
    _notation._term_key.cache_clear()
    assert (sc.pretty(expr), _notation.pretty(expr, unicode=True)) == first
    assert first[0] != first[1]
