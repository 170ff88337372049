"""User text is never evaluated: every public function of symcnn, fed a string that would run code if parsed."""

from __future__ import annotations

import inspect

import pytest
import sympy

import symcnn as sc

_FUNCTIONS = [n for n in sc.__all__ if inspect.isfunction(getattr(sc, n))
              and inspect.signature(getattr(sc, n)).parameters]
_STRICT = ["pretty", "latex", "conv_output_size", "effective_kernel", "same_padding", "torch_same_padding",
           "pool_output_size",
           "adaptive_window_total", "adaptive_longest_window", "transposed_output_size", "floordiv", "ceildiv",
           "mod"]


def test_the_list_of_value_helpers_is_public():
    assert set(_STRICT) <= set(_FUNCTIONS)


@pytest.mark.parametrize("name", _FUNCTIONS)
def test_no_public_function_evaluates_a_string(name, tmp_path):
    marker = tmp_path / "PWN"
    payload = f"__import__('os').system('touch {marker}') or 8"
    fn = getattr(sc, name)
    n = sum(p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD
            for p in inspect.signature(fn).parameters.values())
    for position in range(max(n, 1)):
        args = [3] * max(n, 1)
        args[position] = payload
        try:
            fn(*args)
        except Exception:  # refusing is fine (the product refuses with SymcnnError); running the text is not
            pass
        assert not marker.exists(), f"{name} evaluated argument {position}"


@pytest.mark.parametrize("name", _STRICT)
def test_value_helpers_refuse_text_naming_function_and_argument(name):
    fn = getattr(sc, name)
    n = sum(p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD
            for p in inspect.signature(fn).parameters.values())
    args = ["8"] + [sympy.Integer(3)] * (max(n, 1) - 1)
    with pytest.raises(sc.SymcnnError, match=name if name not in ("ceildiv", "mod") else "floordiv"):
        fn(*args)
