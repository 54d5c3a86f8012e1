"""queue_log lines from the ACD's events, in Asterisk's documented format
(`epoch|callid|queue|agent|EVENT|data...`, app_queue's fields per event)."""

from __future__ import annotations

from pathlib import Path

from acd.agent import AgentConfig
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.queue import QueueConfig
from hotline.queue_log import FileSink, QueueLog, line


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)


def make() -> tuple[Acd, VirtualClock, QueueLog, Lines]:
    clock = VirtualClock(1_700_000_000.0)
    acd = Acd(clock, [QueueConfig("sales", ring_timeout=20.0, max_wait=300.0, wrap_up=0.0)])
    for agent_id in ("1001", "1002"):
        acd.add_agent(AgentConfig(agent_id))
    sink = Lines()
    return acd, clock, QueueLog(acd, sink, agent_name=lambda a: f"PJSIP/{a}"), sink


def test_line_format_matches_app_queue() -> None:
    assert line(1366720340.7, "1366720340.303267", "MYQUEUE", "SIP/8007", "RINGNOANSWER", 1000) == (
        "1366720340|1366720340.303267|MYQUEUE|SIP/8007|RINGNOANSWER|1000"
    )
    assert line(5, "", "", "", "PAUSE", "lunch|break") == "5|NONE|NONE|NONE|PAUSE|lunchbreak"


def test_a_call_that_waits_rings_out_connects_and_completes() -> None:
    acd, clock, _, sink = make()
    acd.arrive("c1", "sales", caller="+82212345678")  # nobody logged in: waits
    clock.advance(12.0)
    acd.login("1001")  # offered at once
    clock.advance(20.0)  # ring timeout: RINGNOANSWER after 20 s, agent paused
    acd.login("1002")  # c1 offered to 1002
    clock.advance(3.0)
    acd.answer("c1")
    clock.advance(95.0)
    acd.end("c1")
    t = 1_700_000_000
    assert sink.lines == [
        f"{t}|c1|sales|NONE|ENTERQUEUE||+82212345678",
        f"{t + 12}|NONE|NONE|PJSIP/1001|AGENTLOGIN|PJSIP/1001",
        f"{t + 32}|c1|sales|PJSIP/1001|RINGNOANSWER|20000",
        f"{t + 32}|NONE|NONE|PJSIP/1001|PAUSE|ring_no_answer",
        f"{t + 32}|NONE|NONE|PJSIP/1002|AGENTLOGIN|PJSIP/1002",
        f"{t + 35}|c1|sales|PJSIP/1002|CONNECT|35|c1|3",
        f"{t + 130}|c1|sales|PJSIP/1002|COMPLETECALLER|35|95|1",
    ]


def test_agent_hang_up_abandon_timeout_unpause_and_logoff() -> None:
    acd, clock, qlog, sink = make()
    acd.login("1001")
    acd.arrive("c1", "sales", caller="100")  # rings 1001 at once: ENTERQUEUE position 1
    acd.answer("c1")
    acd.arrive("c2", "sales", caller="200")  # waits, position 1
    acd.arrive("c3", "sales", caller="300")  # waits, position 2
    clock.advance(10.0)
    acd.abandon("c2")  # hangs up at position 1
    qlog.hung_up_by("c1", agent=True)
    clock.advance(20.0)
    acd.end("c1")  # c3 is offered to 1001 now
    acd.ring_no_answer("c3")
    acd.unpause("1001")  # c3 offered again
    acd.ring_no_answer("c3")
    clock.advance(300.0)  # c3's max wait: timeout
    acd.logout("1001")
    t = 1_700_000_000
    assert sink.lines == [
        f"{t}|NONE|NONE|PJSIP/1001|AGENTLOGIN|PJSIP/1001",
        f"{t}|c1|sales|NONE|ENTERQUEUE||100",
        f"{t}|c1|sales|PJSIP/1001|CONNECT|0|c1|0",
        f"{t}|c2|sales|NONE|ENTERQUEUE||200",
        f"{t}|c3|sales|NONE|ENTERQUEUE||300",
        f"{t + 10}|c2|sales|NONE|ABANDON|1|1|10",
        f"{t + 30}|c1|sales|PJSIP/1001|COMPLETEAGENT|0|30|1",
        f"{t + 30}|c3|sales|PJSIP/1001|RINGNOANSWER|0",
        f"{t + 30}|NONE|NONE|PJSIP/1001|PAUSE|ring_no_answer",
        f"{t + 30}|NONE|NONE|PJSIP/1001|UNPAUSE|",
        f"{t + 30}|c3|sales|PJSIP/1001|RINGNOANSWER|0",
        f"{t + 30}|NONE|NONE|PJSIP/1001|PAUSE|ring_no_answer",
        f"{t + 300}|c3|sales|NONE|EXITWITHTIMEOUT|1|2|300",
        f"{t + 330}|NONE|NONE|PJSIP/1001|AGENTLOGOFF|PJSIP/1001|330",
    ]


def test_the_file_sink_appends_every_line(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text("1|NONE|NONE|NONE|QUEUESTART|\n")
    sink = FileSink(path)
    acd, _clock, _, _ = make()
    QueueLog(acd, sink)
    acd.arrive("c1", "sales", caller="1")
    acd.abandon("c1")
    sink.close()
    assert path.read_text().splitlines() == [
        "1|NONE|NONE|NONE|QUEUESTART|",
        "1700000000|c1|sales|NONE|ENTERQUEUE||1",
        "1700000000|c1|sales|NONE|ABANDON|1|1|0",
    ]
