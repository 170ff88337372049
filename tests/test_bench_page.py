"""The benchmarks page renders from a results dict: tables, missed targets said as such, the SVG plot."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from symcnn.docsgen import _bench_page

SIZES = [64, 96, 224]


def _tool(wall, twin, per, macs, params=25557032):
    return {"wall_s": wall, "tool_s": wall - twin, "phases_s": {"twin": twin}, "per_size_s": per, "macs": macs,
            "params": params}


def _results():
    ours = [335691776, 752746496, 4089184256]
    fv = [337514496, 757034496, 4111512576]
    return {
        "schema": 1,
        "machine": {"cpu": "Test CPU 9000", "cores": 2, "versions": {"python": "3.11.7", "sympy": "1.14.0",
                                                                      "torch": "2.13.0"},
                    "date": "2026-11-25T08:00:00+00:00", "commit": "abc1234", "load_before": [0.5, 0.4, 0.3],
                    "load_after": [1.5, 0.9, 0.5]},
        "sizes": SIZES,
        "sweep": {
            "resnet50": {
                "symcnn": {"wall_s": 0.5, "process_s": 0.4, "phases_s": {"import": 0.3, "analyze": 0.04},
                           "per_size_s": [1e-4, 1e-5, 1e-5], "macs": ours, "params": 25557032,
                           "marginal": {"scalar_median_s": 1e-5, "vectorised_per_size_s": 5e-8},
                           "counts": {"fvcore": [337514496, 757034496, 4111512576]}},
                "fvcore": _tool(4.0, 0.5, [0.1, 0.2, 0.3], fv),
                "ptflops": {"error": "RuntimeError: boom", "wall_s": 1.0},
            },
            "mobilenet_v2": {"error": "mobilenet_v2 is not in symcnn.models"},
        },
        "agreement": {"resnet50": {
            "fvcore": {"params": {"agree": True, "max_rel_diff": 0.0, "equal_sizes": 1},
                       "macs": {"agree": False, "equal_sizes": 2,
                                "max_rel_diff": 0.001},
                       "compared": "total vs symcnn.count(convention='fvcore'), closed form evaluated"},
            "ptflops": {"error": "RuntimeError: boom"},
        }},
        "scale": {"resnet50": {"layers": 175, "analyze_first_s": 0.04, "analyze_warm_min_s": 0.017,
                               "macs": {"expr": "9408*ceil(H/2)*ceil(W/2) + 2048000", "count_ops": 35, "terms": 6,
                                        "product_terms": 5},
                               "feature_size": {"layer": "layer4", "expr": "ceil(H/32)", "count_ops": 2,
                                                "single_division": True},
                               "marginal": {"scalar_median_s": 1.05e-5, "vectorised_per_size_s": 5.5e-8}},
                  "densenet121": {"error": "boom", "wall_s": 0.1}},
        "others": {"derive": {"seconds": 5.9, "count": 16, "verified": True},
                   "cli": {"first_s": 0.9, "median_s": 0.7, "returncode": 0, "command": "symcnn summary resnet50"},
                   "site": {"error": "symcnn.docsgen has no __main__ yet"}},
        "targets": [
            {"issue": "5/7", "what": "analyze(resnet50, (3, H, W)) symbolic", "value": 0.04, "limit": 1.0,
             "unit": "s", "comparison": "<", "met": True, "note": ""},
            {"issue": "8", "what": "resnet50: sweep, fastest tool / symcnn", "value": 7.0, "limit": 10, "unit": "x",
             "comparison": ">=", "met": False, "note": ""},
            {"issue": "5/7", "what": "analyze(densenet121, (3, H, W)) symbolic", "value": None, "limit": 2.0,
             "unit": "s", "comparison": "<", "met": None, "note": "not in the zoo"},
        ],
    }


def _table_rows(md: str, header_start: str) -> list[list[str]]:
    lines = md.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[i + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_targets_table_says_met_missed_and_not_measured():
    md = _bench_page.render(_results())[_bench_page.PAGE]
    rows = _table_rows(md, "| issue | target |")
    assert [r[4] for r in rows] == ["met", "**missed**", "not measured"]
    assert rows[0][2:4] == ["40 ms", "< 1 s"]
    assert rows[1][2:4] == ["7x", ">= 10x"]
    assert "1 of 3 targets met; 1 missed: resnet50: sweep, fastest tool / symcnn (issue 8); 1 not measured." in md


def test_sweep_table_ratios_agreement_and_failures():
    md = _bench_page.render(_results())[_bench_page.PAGE]
    rows = _table_rows(md, "| tool | wall |")
    by_tool = {r[0]: r for r in rows}
    assert by_tool["symcnn"][1] == "500 ms" and by_tool["symcnn"][5] == "1x"
    # fvcore: 4.0 s wall minus 0.5 s twin = 3.5 s tool time = 7x symcnn's 0.5 s; per more size median of 0.2, 0.3
    assert by_tool["fvcore"][1:6] == ["4 s", "3.5 s", "100 ms", "250 ms", "7x"]
    assert by_tool["fvcore"][6] == "4,111,512,576"
    assert by_tool["fvcore"][7] == "2/3 equal, max rel. diff 0.001"
    assert by_tool["ptflops"][1] == "failed: RuntimeError: boom"
    assert "Not measured: mobilenet_v2 is not in symcnn.models." in md
    assert ("Where symcnn's 500 ms go: interpreter start 100 ms, import 300 ms, analyze 40 ms, the 3 evaluations "
            "120 µs.") in md


def test_scale_and_machine_sections():
    md = _bench_page.render(_results())[_bench_page.PAGE]
    assert "Test CPU 9000, 2 cores" in md and "commit `abc1234`" in md and "0.50 before and 1.50 after" in md
    assert "busy" not in md
    res = _results()
    res["machine"]["load_after"] = [6.5, 3.0, 1.0]
    assert "**The machine was busy** (1-minute load up to 6.5 on 2 cores)" in _bench_page.render(res)[_bench_page.PAGE]
    rows = {r[0]: r for r in _table_rows(md, "| model | layer calls |")}
    assert rows["resnet50"][1:6] == ["175", "40 ms", "17 ms", "`⌈H/32⌉` (2)", "35 ops, 5 products"]
    assert rows["densenet121"][1] == "failed: boom"
    assert "9408⌈H/2⌉·⌈W/2⌉ + 2048000" in md  # the recorded form, as people write it
    assert "site build | not measured: symcnn.docsgen has no __main__ yet" in md


def test_svg_plot_is_valid_and_linked():
    pages = _bench_page.render(_results())
    assert set(pages) == {"reference/benchmarks.md", "reference/assets/benchmarks.svg",
                          "reference/assets/benchmarks-scale.svg"}
    assert "](assets/benchmarks.svg)" in pages[_bench_page.PAGE]
    assert "](assets/benchmarks-scale.svg)" in pages[_bench_page.PAGE]
    root = ET.fromstring(pages["reference/assets/benchmarks.svg"])
    lines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 2                            # symcnn and fvcore; ptflops failed, mobilenet_v2 absent
    for line in lines:
        assert len(line.get("points").split()) == len(SIZES)
    # the scale plot: two dots (first, warm) per model that was analysed; densenet121 failed
    dots = ET.fromstring(pages["reference/assets/benchmarks-scale.svg"]).findall("{http://www.w3.org/2000/svg}circle")
    assert len(dots) == 2 + 2                         # resnet50's two dots and the two of the legend


def test_no_plots_without_measurements():
    res = _results()
    del res["sweep"], res["scale"]
    pages = _bench_page.render(res)
    assert list(pages) == [_bench_page.PAGE]
    assert "assets/" not in pages[_bench_page.PAGE] and "No sweep was recorded." in pages[_bench_page.PAGE]


def test_no_pipes_inside_cells():
    res = _results()
    res["targets"][0]["what"] = "a | b"
    md = _bench_page.render(res)[_bench_page.PAGE]
    row = _table_rows(md, "| issue | target |")[0]
    assert len(row) == 6 and row[1] == "a / b"


def test_without_results_the_page_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(_bench_page, "results_path", lambda: tmp_path / "results.json")
    pages = _bench_page.render()
    assert list(pages) == [_bench_page.PAGE]
    assert "No benchmark results were recorded" in pages[_bench_page.PAGE]
    (tmp_path / "results.json").write_text(json.dumps(_results()))
    assert _bench_page.render() == _bench_page.render(_results())


def test_recorded_results_render_when_present():
    res = _bench_page.load()
    if res is None:
        pytest.skip("bench/results.json not recorded yet")
    pages = _bench_page.render()
    assert pages[_bench_page.PAGE].startswith("# Benchmarks")
    assert len(_table_rows(pages[_bench_page.PAGE], "| issue | target |")) == len(res["targets"])
