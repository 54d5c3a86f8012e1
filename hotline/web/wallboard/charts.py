"""Server-rendered SVG charts of today's 15-minute intervals: service level (line against the
target) and volume (offered / answered bars). Only numbers go into the markup."""

from __future__ import annotations

import time
from collections.abc import Sequence

from markupsafe import Markup, escape

from casestore.report_model import Bucket

WIDTH, HEIGHT, PAD = 720.0, 160.0, 28.0


def _x(i: int, n: int) -> float:
    return PAD + (WIDTH - 2 * PAD) * i / max(n, 1)


def _hour_labels(series: Sequence[Bucket]) -> str:
    n = len(series)
    out = []
    for i, bucket in enumerate(series):
        if i % 8 == 0:  # every two hours
            label = time.strftime("%H:%M", time.localtime(bucket.start))
            out.append(f'<text x="{_x(i, n):.1f}" y="{HEIGHT - 6:.1f}" class="axis">{label}</text>')
    return "".join(out)


def sl_chart(series: Sequence[Bucket], target: float, title: str) -> Markup:
    n = len(series)
    top, bottom = PAD / 2, HEIGHT - PAD

    def y(share: float) -> float:
        return bottom - (bottom - top) * share

    points = [
        f"{_x(i, n) + (WIDTH - 2 * PAD) / max(n, 1) / 2:.1f},{y(b.service_level):.1f}"
        for i, b in enumerate(series) if b.service_level is not None
    ]
    dots = "".join(f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" class="sl-dot"/>' for p in points)
    return Markup(
        f'<svg viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" class="chart" role="img" data-testid="sl-chart" '
        f'data-points="{len(points)}"><title>{escape(title)}</title>'
        f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(target):.1f}" y2="{y(target):.1f}" class="target"/>'
        f'<text x="{WIDTH - PAD + 2:.1f}" y="{y(target) + 4:.1f}" class="axis">{target * 100:.0f}%</text>'
        f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{bottom}" y2="{bottom}" class="base"/>'
        f'<polyline points="{" ".join(points)}" class="sl-line"/>{dots}{_hour_labels(series)}</svg>'
    )


def volume_chart(series: Sequence[Bucket], title: str) -> Markup:
    n = len(series)
    top, bottom = PAD / 2, HEIGHT - PAD
    peak = max((b.offered for b in series), default=0) or 1
    slot = (WIDTH - 2 * PAD) / max(n, 1)
    bars = []
    for i, b in enumerate(series):
        if not b.offered:
            continue
        h_off = (bottom - top) * b.offered / peak
        h_ans = (bottom - top) * b.answered / peak
        x = _x(i, n)
        bars.append(
            f'<rect x="{x:.1f}" y="{bottom - h_off:.1f}" width="{slot * 0.8:.1f}" height="{h_off:.1f}" class="offered">'
            f'<title>{b.offered}/{b.answered}</title></rect>'
            f'<rect x="{x:.1f}" y="{bottom - h_ans:.1f}" width="{slot * 0.8:.1f}" height="{h_ans:.1f}" class="answered"/>'
        )
    return Markup(
        f'<svg viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" class="chart" role="img" data-testid="volume-chart" '
        f'data-bars="{len(bars)}"><title>{escape(title)}</title>'
        f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{bottom}" y2="{bottom}" class="base"/>'
        f'<text x="2" y="{top + 8:.1f}" class="axis">{peak}</text>{"".join(bars)}{_hour_labels(series)}</svg>'
    )
