"""The IVR editor's API per role (admins only), its checks and drawings of a draft, publish
with author and message (a broken menu refused by line and node, the running one stays),
history and diffs, rollback audited in the same transaction, test calls on a draft with the
real interpreter, and a restart that keeps the published versions and the active one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from hotline.durability import STORED_MENUS_KEY
from hotline.web.menus.service import MENUS_KEY
from tests.web.harness import WebRig, start_rig

MENU = Path(__file__).resolve().parents[2] / "config" / "menus" / "airline.yaml"
GOOD = MENU.read_text(encoding="utf-8")
CHANGED = GOOD.replace("Thank you for calling SkyRail Air.", "Welcome to SkyRail.")
BROKEN = GOOD.replace("        next: ticket_number\n", "        next: nowhere\n")
WEEKDAY_OPEN = {"at": "2026-12-01T10:00", "timezone": "Asia/Seoul"}  # a Tuesday
SUNDAY = {"at": "2026-12-06T10:00", "timezone": "Asia/Seoul"}


@pytest.fixture
async def people(web_rig: WebRig) -> dict[str, dict[str, str]]:
    await web_rig.add_user("ada", "admin")
    await web_rig.add_user("sue", "supervisor")
    await web_rig.add_user("kim", "agent", agent_id="1001")
    return {login: await web_rig.bearer(login) for login in ("ada", "sue", "kim")}


def _line_of(needle: str, source: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if needle in line)


EDITOR_ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/menus/draft", {"data": CHANGED.encode()}),
    ("GET", "/api/menus/skyrail-main/versions", {}),
    ("GET", "/api/menus/skyrail-main/versions/1", {}),
    ("GET", "/api/menus/skyrail-main/diff?from=1&to=1", {}),
    ("POST", "/api/menus/try", {"json": {"text": GOOD}}),
    ("POST", "/api/menus", {"data": CHANGED.encode()}),
    ("POST", "/api/menus/skyrail-main/activate", {"json": {"version": 1}}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), EDITOR_ENDPOINTS)
async def test_editor_endpoints_are_for_admins_only(
    web_rig: WebRig, people: dict[str, dict[str, str]], method: str, path: str, kwargs: dict[str, Any]
) -> None:
    for login in ("sue", "kim"):
        response = await web_rig.client.request(method, path, headers=people[login], **kwargs)
        assert response.status == 403, (login, await response.text())
        assert (await response.json())["details"]["allowed"] == ["admin"]
    response = await web_rig.client.request(method, path, headers=people["ada"], **kwargs)
    assert response.status == 200, await response.text()


async def test_editor_pages_are_for_admins_only(web_rig: WebRig, people: dict[str, dict[str, str]]) -> None:
    for login in ("sue", "kim"):
        response = await web_rig.client.get("/ivr/skyrail-main", headers=people[login])
        assert response.status == 403
    response = await web_rig.client.get("/ivr/skyrail-main", headers=people["ada"])
    assert response.status == 200
    assert 'data-testid="menu-graph"' in await response.text()


async def test_a_draft_with_an_unknown_target_is_reported_at_its_line_and_node(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    response = await web_rig.client.post("/api/menus/draft", data=BROKEN.encode(), headers=people["ada"])
    assert response.status == 200
    body = await response.json()
    assert body["ok"] is False
    errors = [i for i in body["issues"] if i["severity"] == "error"]
    unknown = [i for i in errors if "nowhere" in i["message"]]
    assert [(i["node"], i["line"], i["path"]) for i in unknown] == [
        ("main", _line_of("next: nowhere", BROKEN), "nodes.main.options[1].next")]
    assert "main" in body["error_nodes"]  # (and the nodes only it reached: now unreachable)
    nodes = {n["id"]: n for n in body["nodes"]}
    assert nodes["main"]["error"] is True and nodes["nowhere"]["kind"] == "missing"
    assert nodes["main"]["line"] == _line_of("  main:", BROKEN)
    assert 'data-node="main"' in body["svg"] and "node kind-menu error" in body["svg"]

    good = await (await web_rig.client.post("/api/menus/draft", data=GOOD.encode(), headers=people["ada"])).json()
    assert good["ok"] is True and good["error_nodes"] == []
    edges = {(e["source"], e["target"], e["label"]) for e in good["edges"]}
    assert ("hours", "identify", "open") in edges and ("hours", "closed", "closed") in edges
    assert ("main", "baggage", "3 baggage") in edges or ("main", "baggage", "3") in edges
    assert ("baggage", "queue:baggage", "") in edges  # a transfer to its queue
    assert {n["id"] for n in good["nodes"] if n["kind"] == "queue"} >= {"queue:booking", "queue:general"}

    bad_yaml = await (await web_rig.client.post("/api/menus/draft", data=b"menu: x\nnodes: [\n",
                                               headers=people["ada"])).json()
    assert bad_yaml["ok"] is False and bad_yaml["issues"][0]["line"] is not None and bad_yaml["svg"] == ""


async def test_publish_refuses_a_broken_menu_and_keeps_the_running_one(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    admin = people["ada"]
    response = await web_rig.client.post("/api/menus?message=oops", data=BROKEN.encode(), headers=admin)
    assert response.status == 422
    body = await response.json()
    assert body["ok"] is False
    assert ("main", _line_of("next: nowhere", BROKEN)) in [
        (i["node"], i["line"]) for i in body["issues"] if i["severity"] == "error"]
    assert web_rig.app[MENUS_KEY].get("skyrail-main").version == 1
    versions = await (await web_rig.client.get("/api/menus/skyrail-main/versions", headers=admin)).json()
    assert [v["version"] for v in versions["versions"]] == [1]


async def test_publish_history_diff_and_rollback_each_audited(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    admin = people["ada"]
    c = web_rig.client
    response = await c.post("/api/menus?message=shorter+welcome", data=CHANGED.encode(), headers=admin)
    assert response.status == 200, await response.text()
    assert (await response.json())["version"] == 2
    versions = await (await c.get("/api/menus/skyrail-main/versions", headers=admin)).json()
    assert versions["active_version"] == 2
    assert [(v["version"], v["author"], v["message"], v["active"]) for v in versions["versions"]] == [
        (1, "config", "first import of airline.yaml", False), (2, "ada", "shorter welcome", True)]
    one = await (await c.get("/api/menus/skyrail-main/versions/1", headers=admin)).json()
    assert one["text"] == GOOD

    diff = await (await c.get("/api/menus/skyrail-main/diff?from=1&to=2", headers=admin)).json()
    changed = [r for r in diff["rows"] if r["kind"] != "same"]
    assert [(r["kind"], r["old_line"], r["new_line"]) for r in changed] == [
        ("changed", _line_of("Thank you for calling SkyRail Air.", GOOD), _line_of("Welcome to SkyRail.", CHANGED))]
    assert "-      en: {text: \"Thank you for calling SkyRail Air." in diff["unified"]
    assert "+      en: {text: \"Welcome to SkyRail." in diff["unified"]
    assert (await c.get("/api/menus/skyrail-main/diff?from=1&to=7", headers=admin)).status == 404

    response = await c.post("/api/menus/skyrail-main/activate", json={"version": 1}, headers=admin)
    assert response.status == 200
    assert web_rig.app[MENUS_KEY].get("skyrail-main").version == 1
    audit = await (await c.get("/api/audit?limit=5", headers=admin)).json()
    entries = [(e["action"], e["actor"], e["target"], e["before"], e["after"]) for e in audit["entries"][:2]]
    assert entries[0][:3] == ("menu.rollback", "ada", "menu:skyrail-main")
    assert entries[0][3] == {"version": 2} and entries[0][4] == {"version": 1}
    assert entries[1][:3] == ("menu.upload", "ada", "menu:skyrail-main")
    assert entries[1][4]["version"] == 2 and entries[1][4]["message"] == "shorter welcome"
    again = await c.post("/api/menus/skyrail-main/activate", json={"version": 2}, headers=admin)
    assert again.status == 200
    audit = await (await c.get("/api/audit?limit=1", headers=admin)).json()
    assert audit["entries"][0]["action"] == "menu.activate"
    assert (await c.post("/api/menus/skyrail-main/activate", json={"version": 9}, headers=admin)).status == 404


async def test_a_change_whose_audit_cannot_be_written_is_not_made(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    admin = people["ada"]
    async with web_rig.store.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    response = await web_rig.client.post("/api/menus?message=x", data=CHANGED.encode(), headers=admin)
    assert response.status == 503
    assert [v.version for v in await web_rig.app[STORED_MENUS_KEY].versions("skyrail-main")] == [1]
    assert web_rig.app[MENUS_KEY].get("skyrail-main").version == 1


async def _try(rig: WebRig, headers: dict[str, str], **body: Any) -> Any:
    response = await rig.client.post("/api/menus/try", json={"text": GOOD, **body}, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_test_calls_walk_the_draft_with_keys_phrases_and_hours(
    web_rig: WebRig, people: dict[str, dict[str, str]]
) -> None:
    admin = people["ada"]
    first = await _try(web_rig, admin, **WEEKDAY_OPEN)
    assert first["outcome"] is None and first["waiting"]["node"] == "language"
    assert first["path"] == ["welcome", "disruption", "hours", "identify", "language"]
    assert first["waiting"]["prompts"][0]["text"].startswith("한국어는 1번")

    keys = await _try(web_rig, admin, actions=[{"kind": "dtmf", "value": "1"}, {"kind": "dtmf", "value": "3"}],
                      **WEEKDAY_OPEN)
    assert (keys["outcome"], keys["transfer"]["queue"], keys["path"][-1]) == ("transfer", "baggage", "baggage")

    spoken = await _try(web_rig, admin, actions=[{"kind": "dtmf", "value": "2"}, {"kind": "say", "value": "agent"}],
                        **WEEKDAY_OPEN)
    assert (spoken["transfer"]["queue"], spoken["language"]) == ("general", "en")
    heard = [s for n in spoken["walk"] if n["node"] == "main" for s in n["steps"] if s["op"] == "input"]
    assert heard[0]["kind"] == "speech" and heard[0]["result"] == "match"

    closed = await _try(web_rig, admin, **SUNDAY)
    assert closed["waiting"]["node"] == "closed"  # the hours branch: the callback offer

    emergency = await _try(web_rig, admin, emergency="Storm", **WEEKDAY_OPEN)
    assert emergency["transfer"]["queue"] == "emergency"

    edited = GOOD.replace("queue: baggage\n", "queue: general\n")
    moved = await _try(web_rig, admin, actions=[{"kind": "dtmf", "value": "1"}, {"kind": "dtmf", "value": "3"}],
                       **{**WEEKDAY_OPEN, "text": edited})
    assert moved["transfer"]["queue"] == "general"  # the draft, not the running menu

    response = await web_rig.client.post("/api/menus/try", json={"text": BROKEN}, headers=admin)
    assert response.status == 422
    body = await response.json()
    assert body["error"] == "menu_has_errors" and body["details"]["issues"][0]["node"] == "main"
    bad = await web_rig.client.post("/api/menus/try", json={"text": GOOD, "actions": [{"kind": "dtmf", "value": "x"}]},
                                    headers=admin)
    assert bad.status == 400 and (await bad.json())["error"] == "bad_call"
    bad = await web_rig.client.post("/api/menus/try", json={"text": GOOD, "at": "10:00", "timezone": "Mars/Base"},
                                    headers=admin)
    assert bad.status == 400


async def test_a_restart_keeps_published_menus_and_the_active_version(tmp_path: Path) -> None:
    async for rig in start_rig(tmp_path):
        await rig.add_user("ada", "admin")
        admin = await rig.bearer("ada")
        response = await rig.client.post("/api/menus?message=v2", data=CHANGED.encode(), headers=admin)
        assert response.status == 200
        third = CHANGED.replace("Welcome to SkyRail.", "Hello from SkyRail.")
        assert (await rig.client.post("/api/menus?message=v3", data=third.encode(), headers=admin)).status == 200
        assert (await rig.client.post("/api/menus/skyrail-main/activate", json={"version": 2},
                                      headers=admin)).status == 200
    async for rig in start_rig(tmp_path):  # the same database, a new app and store
        admin = await rig.bearer("ada")
        versions = await (await rig.client.get("/api/menus/skyrail-main/versions", headers=admin)).json()
        assert versions["active_version"] == 2
        assert [(v["version"], v["author"], v["message"]) for v in versions["versions"]] == [
            (1, "config", "first import of airline.yaml"), (2, "ada", "v2"), (3, "ada", "v3")]
        running = rig.app[MENUS_KEY].get("skyrail-main")
        assert running.version == 2
        assert running.nodes["welcome"].prompt["en"].text == "Welcome to SkyRail."


async def test_a_reload_of_a_changed_file_is_audited_with_its_version(tmp_path: Path) -> None:
    import yaml

    from tests.web.harness import CONFIG, sample_config

    menu_file = tmp_path / "airline.yaml"
    menu_file.write_text(GOOD, encoding="utf-8")
    raw = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config = sample_config(ivr={**raw["ivr"], "menus": [str(menu_file)]})
    async for rig in start_rig(tmp_path, config):
        await rig.add_user("ada", "admin")
        admin = await rig.bearer("ada")
        menu_file.write_text(CHANGED, encoding="utf-8")
        response = await rig.client.post("/api/menus/reload", headers=admin)
        assert response.status == 200, await response.text()
        entries = await rig.store.accounts.audit(limit=5, target="menu:skyrail-main")
        assert [(e.action, e.actor, e.before, e.after["version"]) for e in entries] == [
            ("menu.reload", "ada", {"version": 1}, 2)]
