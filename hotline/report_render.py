"""A service report rendered for people: PNG plots (matplotlib, Agg, no pyplot state) and a
self-contained HTML page embedding them as base64 (each also linked to its PNG file)."""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Callable
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from casestore.report_model import Check, QueueReport, ServiceReport

PLOTS = ("volume.png", "service_level.png", "asa.png", "queues.png")
OK, BAD, NEUTRAL = "#2e7d32", "#c62828", "#1565c0"


def _labels(report: ServiceReport) -> list[str]:
    fmt = "%m-%d %H:%M" if report.interval < 86400 else "%Y-%m-%d"
    return [time.strftime(fmt, time.gmtime(b.start)) for b in report.series]


def _ticks(ax: Axes, labels: list[str]) -> None:
    step = max(1, len(labels) // 12)
    positions = list(range(0, len(labels), step))
    ax.set_xticks(positions)
    ax.set_xticklabels([labels[i] for i in positions], rotation=45, ha="right", fontsize=8)


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    return out.getvalue()


def _figure(title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return fig, ax


def volume_plot(report: ServiceReport) -> bytes:
    unit = "hour" if report.interval < 86400 else "day"
    fig, ax = _figure(f"Offered and answered calls per {unit} (UTC)")
    labels = _labels(report)
    xs = list(range(len(labels)))
    ax.bar([x - 0.2 for x in xs], [b.offered for b in report.series], 0.4, label="offered", color="#90a4ae")
    ax.bar([x + 0.2 for x in xs], [b.answered for b in report.series], 0.4, label="answered", color=NEUTRAL)
    ax.set_ylabel("calls")
    ax.legend()
    _ticks(ax, labels)
    return _png(fig)


def service_level_plot(report: ServiceReport) -> bytes:
    s = report.standards
    fig, ax = _figure(f"Service level (answered within {s.sl_seconds:g} s) against the target")
    labels = _labels(report)
    values = [b.service_level * 100 if b.service_level is not None else float("nan") for b in report.series]
    ax.plot(range(len(labels)), values, marker="o", color=NEUTRAL, label="service level")
    ax.axhline(s.sl_target * 100, color=BAD, linestyle="--", label=f"target {s.sl_target:.0%}")
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.legend(loc="lower left")
    _ticks(ax, labels)
    return _png(fig)


def asa_plot(report: ServiceReport) -> bytes:
    fig, ax = _figure("Average speed of answer")
    labels = _labels(report)
    values = [b.asa if b.asa is not None else float("nan") for b in report.series]
    ax.plot(range(len(labels)), values, marker="o", color="#6a1b9a", label="ASA")
    ax.axhline(report.standards.sl_seconds, color="#9e9e9e", linestyle=":", label=f"{report.standards.sl_seconds:g} s")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("seconds")
    ax.legend(loc="upper left")
    _ticks(ax, labels)
    return _png(fig)


def queues_plot(report: ServiceReport) -> bytes:
    fig, ax = _figure("Service level per queue (marker: the queue's target)")
    rows = report.queues
    xs = list(range(len(rows)))
    values = [(q.figures.service_level or 0.0) * 100 for q in rows]
    colors = [OK if q.figures.service_level is not None and q.figures.service_level >= q.sl_target else BAD for q in rows]
    ax.bar(xs, values, 0.6, color=colors)
    ax.scatter(xs, [q.sl_target * 100 for q in rows], marker="_", s=900, color="black", zorder=3)
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{q.queue}\n({q.sl_seconds:g} s)" for q in rows], fontsize=9)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    return _png(fig)


RENDERERS: dict[str, Callable[[ServiceReport], bytes]] = {
    "volume.png": volume_plot,
    "service_level.png": service_level_plot,
    "asa.png": asa_plot,
    "queues.png": queues_plot,
}


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def verdict(check: Check) -> str:
    return "n/a" if check.passed is None else ("pass" if check.passed else "FAIL")


def utc(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


COLUMNS = (
    "Queue", "Offered", "Answered", "Abandoned", "Answer", "SL", "SL at", "ASA", "Abandon",
    "Talk", "Cases", "Overdue", "Complaints in time", "FCR", "Satisfied",
)


def row_cells(row: QueueReport) -> list[str]:
    f = row.figures
    return [
        row.queue, str(f.offered), str(f.answered), str(f.abandoned), percent(f.answer_rate),
        percent(f.service_level), f"{row.sl_seconds:g} s", seconds(f.asa), percent(f.abandon_rate),
        seconds(f.average_talk), str(f.cases_opened), str(f.cases_overdue),
        percent(f.complaints_in_time), percent(f.first_contact_resolution), percent(f.satisfaction),
    ]


def render_html(report: ServiceReport, images: dict[str, bytes]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row_cells(row)) + "</tr>"
        for row in (*report.queues, report.overall)
    )
    checks = []
    for row in (report.overall, *report.queues):
        for c in row.checks(report.standards):
            cls = {"pass": "ok", "FAIL": "bad"}.get(verdict(c), "na")
            checks.append(
                f"<tr><td>{e(row.queue)}</td><td>{e(c.name.replace('_', ' '))}</td>"
                f"<td>{percent(c.value)}</td><td>&ge; {percent(c.target)}</td>"
                f"<td class='{cls}'>{verdict(c)}</td></tr>"
            )
    figures = "".join(
        f"<figure><a href='{e(name)}'><img alt='{e(name)}' src='data:image/png;base64,"
        f"{base64.b64encode(data).decode('ascii')}'></a><figcaption>{e(name)}</figcaption></figure>"
        for name, data in images.items()
    )
    empty = "<p class='bad'>No calls and no cases in this range.</p>" if report.empty else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Hotline service report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }}
th {{ background: #eee; }} td:first-child {{ text-align: left; }}
.ok {{ color: {OK}; font-weight: bold; }} .bad {{ color: {BAD}; font-weight: bold; }} .na {{ color: #777; }}
img {{ max-width: 100%; }} figure {{ margin: 1em 0; }}
</style></head><body>
<h1>Hotline service report</h1>
<p>Calls started from {e(utc(report.start))} to {e(utc(report.end))} (end excluded);
generated {e(utc(report.generated_at))}.</p>
{empty}
<h2>Figures</h2><table><tr>{head}</tr>{body}</table>
<h2>Standards</h2><table><tr><th>Queue</th><th>Standard</th><th>Value</th><th>Target</th><th>Result</th></tr>
{"".join(checks)}</table>
<h2>Plots</h2>{figures}
</body></html>
"""


def write_report(report: ServiceReport, out: Path, progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write the PNG plots and report.html into `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    images: dict[str, bytes] = {}
    written = []
    for name, render in RENDERERS.items():
        if progress is not None:
            progress(name)
        images[name] = render(report)
        path = out / name
        path.write_bytes(images[name])
        written.append(path)
    page = out / "report.html"
    page.write_text(render_html(report, images), encoding="utf-8")
    written.append(page)
    return written
