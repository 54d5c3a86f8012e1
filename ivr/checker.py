"""The menu checker: schema, then meaning. Every issue carries the node path and line.

`check_menu(text, name)` returns the issues and, when there is no error, the built Menu.
Errors: malformed YAML, duplicate keys, schema violations, unknown targets, unreachable nodes,
duplicate DTMF keys, keywords shared by two options, prompts missing for a language, loops
without exit (nodes that can never reach a transfer, callback or hangup) and loops that never
wait for the caller, invalid hours, unknown queues (when the known queues are given).
Warnings do not block activation.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from ivr.hours import HoursError
from ivr.menu import INPUT_KINDS, Menu, Node, Prompts, build_menu, build_node, normalize
from ivr.pattern_safety import pattern_problem
from ivr.schema import MENU_SCHEMA
from ivr.source import Source, SourceError, format_path, load_source

_VALIDATOR = Draft202012Validator(MENU_SCHEMA)
_PROMPT_FIELDS = ("prompt", "no_input", "no_match", "dtmf_fallback", "announcement", "confirm")
_FILE_PATH = {"no_input": ("no_input", "prompt"), "no_match": ("no_match", "prompt")}


@dataclass(frozen=True, slots=True)
class Issue:
    path: str
    line: int | None
    message: str
    severity: str = "error"  # error | warning

    def format(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        path = f" {self.path}:" if self.path else ""
        return f"{where}: {self.severity}:{path} {self.message}"


@dataclass
class CheckResult:
    source: str
    issues: list[Issue] = field(default_factory=list)
    menu: Menu | None = None
    loaded: Source | None = field(default=None, repr=False)  # the parsed YAML (data, lines), if it parsed

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Report:
    def __init__(self, src: Source) -> None:
        self.src = src
        self.issues: list[Issue] = []

    def add(self, path: Iterable[str | int], message: str, severity: str = "error") -> None:
        p = tuple(path)
        self.issues.append(Issue(format_path(p), self.src.line(p), message, severity))


def check_menu(
    text: str, source: str = "<menu>", *, queues: Collection[str] | None = None
) -> CheckResult:
    """Check a menu's YAML text; `queues` (the ACD's queue names) enables the queue check."""
    result = CheckResult(source)
    try:
        src = load_source(text, source)
    except SourceError as exc:
        result.issues.append(Issue("", exc.line, str(exc)))
        return result
    result.loaded = src
    report = _Report(src)
    for path, line in src.duplicates:
        report.issues.append(Issue(format_path(path), line, "duplicate key"))
    if not isinstance(src.data, Mapping):
        report.add((), "a menu file must be a mapping (menu, languages, start, nodes)")
        result.issues = report.issues
        return result
    for error in sorted(_VALIDATOR.iter_errors(src.data), key=lambda e: list(map(str, e.path))):
        report.add(tuple(error.absolute_path), _schema_message(error))
    if report.issues:
        result.issues = report.issues
        return result
    nodes: dict[str, Node] = {}
    for node_id, raw in src.data["nodes"].items():
        try:
            nodes[node_id] = build_node(node_id, raw)
        except HoursError as exc:
            report.add(exc.path, f"invalid hours: {exc}")
            # keep checking the rest of the menu with the node's routing only
            nodes[node_id] = Node(node_id, "hours", open=raw.get("open"), closed=raw.get("closed"))
    menu = build_menu(src.data, source, nodes)
    _check_semantics(menu, report, queues)
    if not any(i.severity == "error" for i in report.issues):
        result.menu = menu
    result.issues = report.issues
    return result


def _schema_message(error: Any) -> str:
    schema = error.schema
    if error.validator == "oneOf" and isinstance(schema, Mapping) and "description" in schema:
        return f"{error.instance!r} is not {schema['description']}"
    if error.validator == "oneOf" and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)))
        return str(best.message)
    return str(error.message)


def _check_semantics(menu: Menu, report: _Report, queues: Collection[str] | None) -> None:
    langs = set(menu.languages)
    if menu.default_language not in langs:
        report.add(("default_language",), f"{menu.default_language!r} is not in languages")
    entry_points: list[tuple[tuple[str | int, ...], str]] = [(("start",), menu.start)]
    entry_points += [(("entries", i), e) for i, e in enumerate(menu.entries)]
    for where, target in entry_points:
        if target not in menu.nodes:
            report.add(where, f"unknown node {target!r}")
    if menu.settings.on_failure and menu.settings.on_failure not in menu.nodes:
        report.add(("settings", "on_failure"), f"unknown node {menu.settings.on_failure!r}")
    for node in menu.nodes.values():
        base: tuple[str | int, ...] = ("nodes", node.id)
        for path, target in node.targets():
            if target not in menu.nodes:
                report.add((*base, *path), f"unknown target {target!r}")
        for name in _PROMPT_FIELDS:
            prompts: Prompts = getattr(node, name)
            if prompts:
                _check_prompts(prompts, langs, (*base, *_FILE_PATH.get(name, (name,))), report)
        if node.kind in ("menu", "language", "callback", "survey"):
            _check_choices(node, langs, report)
        if node.kind == "collect" and node.collect is not None:
            spec = node.collect
            if spec.min_digits > spec.max_digits:
                report.add((*base, "min_digits"), "min_digits is larger than max_digits")
            if spec.pattern is not None:
                problem = pattern_problem(spec.pattern)
                if problem:
                    report.add((*base, "pattern"), f"pattern refused: {problem}")
            if spec.grammar is not None:
                for lang in sorted(langs - set(spec.grammar)):
                    report.add((*base, "grammar"), f"no phrases for language {lang!r}")
        if node.kind in INPUT_KINDS and not (node.on_failure or menu.settings.on_failure):
            report.add(
                base,
                "no on_failure (node or settings): callers who fail here are disconnected",
                "warning",
            )
        if (
            node.kind == "transfer"
            and queues is not None
            and node.transfer is not None
            and node.transfer.queue not in queues
        ):
            report.add((*base, "queue"), f"unknown queue {node.transfer.queue!r}")
        if node.kind == "callback":
            accept, decline = node.choices
            if accept.next:
                report.add(
                    (*base, "accept", "next"),
                    "accept ends the call with a callback: "
                    "'next' is not used (put the confirmation in 'confirm')",
                )
            if not (decline.next or node.next):
                report.add((*base, "decline"), "decline needs 'next' (or the node's 'next')")
        if node.kind == "callback" and queues is not None and node.queue not in queues:
            report.add((*base, "queue"), f"unknown queue {node.queue!r}")
        if node.kind == "language" and node.choices:
            for c in node.choices:
                if c.id not in langs:
                    report.add(
                        (*base, "options", c.index, "language"), f"{c.id!r} is not in languages"
                    )
    _check_graph(menu, report)


def _check_prompts(
    prompts: Prompts, langs: set[str], path: tuple[str | int, ...], report: _Report
) -> None:
    for lang in sorted(langs - set(prompts)):
        report.add(path, f"prompt missing for language {lang!r}")
    for lang in sorted(set(prompts) - langs):
        report.add((*path, lang), f"language {lang!r} is not in the menu's languages")
    for lang, p in sorted(prompts.items()):
        if p.audio is not None and _leaves_folder(p.audio):
            report.add((*path, lang, "audio"), f"audio path {p.audio!r} leaves the prompts folder")


def _leaves_folder(audio: str) -> bool:
    """Absolute, `..`, `~` or a drive: the file would not be inside the prompts folder."""
    parts = audio.replace("\\", "/").split("/")
    return audio.startswith(("/", "~")) or ".." in parts or ":" in audio


def _check_choices(node: Node, langs: set[str], report: _Report) -> None:
    base: tuple[str | int, ...] = ("nodes", node.id)

    def where(i: int) -> tuple[str | int, ...]:
        return (*base, node.choices[i].id) if node.kind == "callback" else (*base, "options", i)

    if node.kind == "survey":
        answers = ("nodes", node.id, "answers")
        owners: dict[tuple[str, str], str] = {}
        for c in node.choices:
            for lang, words in c.keywords.items():
                for w in words:
                    key = (lang, normalize(w))
                    if key in owners and owners[key] != c.id:
                        report.add(
                            (*answers, c.id, lang),
                            f"keyword {w!r} ({lang}) is also an answer for {owners[key]}",
                        )
                    owners[key] = c.id
        return
    keys: dict[str, int] = {}
    words_seen: dict[tuple[str, str], int] = {}
    for i, c in enumerate(node.choices):
        if c.dtmf is None and not c.keywords:
            report.add(where(i), "option has neither a DTMF key nor keywords")
        if c.dtmf is not None:
            if c.dtmf in keys:
                report.add(
                    (*where(i), "dtmf"),
                    f"duplicate DTMF key {c.dtmf!r} (also at {format_path(where(keys[c.dtmf]))})",
                )
            else:
                keys[c.dtmf] = i
        for lang, words in c.keywords.items():
            if lang not in langs:
                report.add((*where(i), "keywords", lang), f"language {lang!r} is not in languages")
            for w in words:
                key = (lang, normalize(w))
                if key in words_seen and words_seen[key] != i:
                    report.add(
                        (*where(i), "keywords", lang),
                        f"keyword {w!r} ({lang}) is shared with {format_path(where(words_seen[key]))}",
                    )
                words_seen.setdefault(key, i)
    if node.speech and any(c.keywords for c in node.choices):
        for lang in sorted(langs):
            missing = [i for i, c in enumerate(node.choices) if not c.phrases(lang)]
            if missing and len(missing) < len(node.choices):
                for i in missing:
                    report.add(
                        where(i),
                        f"no keywords for {lang!r}: only DTMF selects this option in {lang}",
                        "warning",
                    )


def _edges(menu: Menu, node: Node) -> list[str]:
    out = [t for _, t in node.targets() if t in menu.nodes]
    if node.kind in INPUT_KINDS and not node.on_failure and menu.settings.on_failure:
        out.append(menu.settings.on_failure)
    return out


def _ends(menu: Menu, node: Node) -> bool:
    """Can the call's IVR part end at this node?"""
    if node.kind in ("transfer", "hangup"):
        return True
    if node.kind in INPUT_KINDS and not (node.on_failure or menu.settings.on_failure):
        return True  # retries exhausted with no on_failure: disconnected
    return node.kind == "callback"  # accepting ends the IVR part with a callback


def _check_graph(menu: Menu, report: _Report) -> None:
    edges = {nid: _edges(menu, n) for nid, n in menu.nodes.items()}
    seen: set[str] = set()
    todo = [n for n in (menu.start, *menu.entries) if n in menu.nodes]
    while todo:
        nid = todo.pop()
        if nid in seen:
            continue
        seen.add(nid)
        todo.extend(edges[nid])
    for nid in menu.nodes:
        if nid not in seen:
            report.add(("nodes", nid), "unreachable node (not reachable from start or entries)")
    # Nodes that can reach an end (reverse search from the ending nodes).
    reverse: dict[str, list[str]] = {nid: [] for nid in menu.nodes}
    for nid, outs in edges.items():
        for t in outs:
            reverse[t].append(nid)
    can_end = {nid for nid, n in menu.nodes.items() if _ends(menu, n)}
    todo = list(can_end)
    while todo:
        nid = todo.pop()
        for src in reverse[nid]:
            if src not in can_end:
                can_end.add(src)
                todo.append(src)
    for nid in menu.nodes:
        if nid in seen and nid not in can_end:
            report.add(("nodes", nid), "loop without exit: never reaches a transfer or hangup")
    # Cycles that never wait for the caller spin until the step bound.
    passive = {nid for nid, n in menu.nodes.items() if n.kind not in INPUT_KINDS}
    for cycle in _cycles(passive, edges):
        first = sorted(cycle)[0]
        report.add(
            ("nodes", first),
            f"loop without caller input: {' -> '.join(sorted(cycle))} repeats forever",
        )


def _cycles(nodes: set[str], edges: Mapping[str, list[str]]) -> list[set[str]]:
    """Strongly connected components with a cycle, within `nodes` (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, []):
            if w not in nodes:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, []):
                out.append(comp)

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out
