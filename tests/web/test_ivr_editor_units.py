"""The IVR editor's pure parts: the graph's layout and SVG, the side-by-side diff, the YAML
checked off the event loop, and the shared walk (`hotline.ivr_trial`) pausing at the first
unanswered question."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import yaml

from hotline.ivr_trial import TrialCall, parse_time, try_menu
from hotline.web.ivr_editor import service
from hotline.web.ivr_editor.diff import side_by_side, unified
from hotline.web.ivr_editor.graph import NODE_H, menu_graph, render_svg
from hotline.web.menus.service import MENUS_KEY
from ivr.checker import check_menu
from ivr.scripted import Press
from tests.web.harness import WebRig

MENU = Path(__file__).resolve().parents[2] / "config" / "menus" / "airline.yaml"
TEXT = MENU.read_text(encoding="utf-8")


def test_the_graph_has_every_node_edge_queue_and_branch_laid_out_top_down() -> None:
    data = yaml.safe_load(TEXT)
    graph = menu_graph(data)
    assert graph is not None
    assert set(data["nodes"]) <= set(graph.nodes)
    queues = {n.detail for n in graph.nodes.values() if n.kind == "queue"}
    assert queues == {"emergency", "booking", "refund", "baggage", "general"}
    edges = {(e.source, e.target, e.kind) for e in graph.edges}
    assert {("hours", "identify", "open"), ("hours", "closed", "closed"),
            ("disruption", "disruption_queue", "emergency"), ("closed", "queue:general", "callback"),
            ("main", "agent", "failure")} <= edges
    options = [e for e in graph.edges if e.source == "main" and e.kind == "option"]
    assert [e.label for e in options] == ["1 예약", "2 환불", "3 baggage", "0 상담원"]
    # every forward edge goes down a layer or more; queues sit below their callers
    for e in graph.edges:
        if e.kind in ("transfer", "callback"):
            assert graph.nodes[e.target].layer > graph.nodes[e.source].layer
    assert graph.nodes["welcome"].layer == 0 and graph.nodes["survey"].layer == 0  # start and entry
    ys = {(n.layer, n.y) for n in graph.nodes.values()}
    assert len({y for _, y in ys}) == len({layer for layer, _ in ys})  # one row per layer
    boxes = sorted((n.y, n.x) for n in graph.nodes.values())
    for (y1, x1), (y2, x2) in itertools.pairwise(boxes):
        assert y1 != y2 or x2 - x1 >= 168  # no two boxes overlap in a row
    svg = render_svg(graph, "skyrail-main", {"main": 97})
    assert svg.startswith("<svg") and svg.count('class="node') == len(graph.nodes)
    assert 'data-node="main" data-testid="graph-main" data-line="97"' in svg
    assert graph.height >= NODE_H * (max(n.layer for n in graph.nodes.values()) + 1)


def test_a_broken_draft_is_drawn_with_its_missing_target_and_error_nodes() -> None:
    data = yaml.safe_load(TEXT.replace("    next: disruption\n", "    next: gone\n"))
    graph = menu_graph(data, {"welcome"})
    assert graph is not None
    assert graph.nodes["gone"].kind == "missing" and graph.nodes["welcome"].error
    assert "node kind-prompt error" in render_svg(graph)
    assert menu_graph({"menu": "x"}) is None and menu_graph(["not", "a", "menu"]) is None
    escaped = render_svg(menu_graph({"start": "a", "nodes": {"a": {"kind": "goto", "target": "<b>"}}}))  # type: ignore[arg-type]
    assert "<b>" not in escaped and "&lt;b&gt;" in escaped


def test_the_diff_shows_changed_added_and_removed_lines_with_their_numbers() -> None:
    old = "\n".join(f"line {i}" for i in range(1, 21))
    new = old.replace("line 5", "line five").replace("line 15\n", "") + "\nline 21"
    rows = side_by_side(old, new)
    kinds = [(r.kind, r.old_line, r.new_line) for r in rows if r.kind != "same"]
    assert kinds == [("changed", 5, 5), ("gap", None, None), ("removed", 15, None), ("added", None, 20)]
    assert [r.old for r in rows if r.kind == "same"][:3] == ["line 2", "line 3", "line 4"]  # 3 lines of context
    assert side_by_side(old, old) == []
    text = unified(old, new, "m v1", "m v2")
    assert text.startswith("--- m v1\n+++ m v2\n") and "-line 5\n+line five\n" in text


async def test_the_walk_pauses_at_the_first_unanswered_question() -> None:
    menu = check_menu(TEXT, "airline.yaml").menu
    assert menu is not None
    at = parse_time("2026-12-01T10:00", "Asia/Seoul")
    waiting = await try_menu(menu, TrialCall(at=at, pause_when_done=True))
    assert waiting["outcome"] is None
    assert waiting["waiting"]["node"] == "language" and waiting["waiting"]["dtmf"] is True
    walked = await try_menu(menu, TrialCall(actions=(Press("1"),), at=at, pause_when_done=True))
    assert walked["waiting"]["node"] == "main"
    assert walked["waiting"]["speech"] == ["예약", "환불", "상담원"]
    silent = await try_menu(menu, TrialCall(actions=(Press("1"),), at=at))  # the command line: silence
    assert (silent["outcome"], silent["transfer"]["queue"]) == ("transfer", "general")  # main's on_failure
    closed = await try_menu(menu, TrialCall(at=parse_time("2026-12-25T10:00", "Asia/Seoul"), pause_when_done=True))
    assert closed["waiting"]["node"] == "closed"  # a holiday


async def test_drafts_are_checked_off_the_event_loop(web_rig: WebRig) -> None:
    registry = web_rig.app[MENUS_KEY]
    seen: list[int] = []
    check = registry.check

    def recording(text: str, source: str = "<menu>"):  # type: ignore[no-untyped-def]
        seen.append(threading.get_ident())
        return check(text, source)

    registry.check = recording  # type: ignore[method-assign]
    draft = await service.inspect(web_rig.app, TEXT)
    assert draft.result.ok and seen and threading.get_ident() not in seen
