"""YAML menu text -> plain data, keeping the line of every value (for the checker's reports).

Paths are tuples of keys and list indexes, e.g. ("nodes", "main", "options", 1, "dtmf");
`format_path` renders them as `nodes.main.options[1].dtmf`. Duplicate mapping keys are
errors (YAML would silently keep the last one).

The text may be untrusted (menu uploads): `YamlLimits` bounds its size, its nesting depth
and how many values it holds once aliases are expanded, and recursive aliases are refused,
all while composing (one pass, before any Python data is built), so a few hundred bytes of
aliases cannot take memory or time, and no input can reach a RecursionError. The parse is
CPU work: callers on an event loop run it in an executor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


class SourceError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class YamlLimits:
    max_bytes: int = 1024 * 1024  # UTF-8 size of the text
    max_depth: int = 64  # nesting of mappings and lists, aliases expanded
    max_values: int = 200_000  # scalars, mappings and lists, aliases expanded


DEFAULT_LIMITS = YamlLimits()


class _LimitedLoader(yaml.SafeLoader):
    """A SafeLoader whose composer counts what aliases expand to and refuses recursion."""

    def __init__(self, text: str, limits: YamlLimits) -> None:
        super().__init__(text)
        self.limits = limits
        self.depth = 0
        self.total = 0
        self.open_anchors: set[str] = set()
        self.anchor_size: dict[str, tuple[int, int]] = {}  # anchor -> (values, height)
        self.frames: list[list[int]] = []  # per open collection: [values, height]

    def _fail(self, message: str, mark: Any) -> SourceError:
        return SourceError(message, mark.line + 1 if mark is not None else None)

    def _account(self, values: int, height: int, mark: Any) -> None:
        self.total += values
        if self.total > self.limits.max_values:
            raise self._fail(
                f"too many values (more than {self.limits.max_values} once aliases are expanded)",
                mark,
            )
        if self.depth + height > self.limits.max_depth:
            raise self._fail(f"nested deeper than {self.limits.max_depth} levels", mark)
        if self.frames:
            frame = self.frames[-1]
            frame[0] += values
            frame[1] = max(frame[1], height)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            alias = str(event.anchor)
            if alias in self.open_anchors:
                raise self._fail(f"recursive alias *{alias}", event.start_mark)
            values, height = self.anchor_size.get(alias, (1, 0))
            self._account(values, height, event.start_mark)
            return super().compose_node(parent, index)
        anchor = getattr(event, "anchor", None)
        if not isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            node = super().compose_node(parent, index)
            self._account(1, 0, event.start_mark)
            if anchor is not None:
                self.anchor_size[anchor] = (1, 0)
            return node
        if self.depth + 1 > self.limits.max_depth:
            raise self._fail(f"nested deeper than {self.limits.max_depth} levels", event.start_mark)
        if anchor is not None:
            self.open_anchors.add(anchor)
        self.frames.append([0, 0])
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
            values, height = self.frames.pop()
            if anchor is not None:
                self.open_anchors.discard(anchor)
        self.total -= values  # children were counted already; count the subtree once below
        self._account(values + 1, height + 1, event.start_mark)
        if anchor is not None:
            self.anchor_size[anchor] = (values + 1, height + 1)
        return node


def compose_limited(text: str, limits: YamlLimits = DEFAULT_LIMITS) -> yaml.Node | None:
    """The YAML node graph of `text` within `limits`; SourceError (with a line) otherwise."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise SourceError(f"too large: {size} bytes (at most {limits.max_bytes})")
    loader: _LimitedLoader | None = None
    try:
        loader = _LimitedLoader(text, limits)  # the reader refuses control characters here
        node: yaml.Node | None = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise SourceError(f"invalid YAML: {exc.problem}", line) from exc
    except yaml.YAMLError as exc:
        raise SourceError(f"invalid YAML: {exc}") from exc
    finally:
        if loader is not None:
            loader.dispose()
    return node


def format_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Source:
    """Loaded menu data and where each piece came from."""

    data: Any
    name: str = "<menu>"
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int]] = field(default_factory=list)

    def line(self, path: Sequence[str | int]) -> int | None:
        """The line (1-based) of `path`, or of its nearest ancestor that has one."""
        p = tuple(path)
        while True:
            if p in self.lines:
                return self.lines[p]
            if not p:
                return None
            p = p[:-1]


def _scalar(node: yaml.ScalarNode) -> Any:
    # Resolve with YAML's own rules (ints, floats, bools, null), but keep times like 08:00 as text.
    value = _CONSTRUCTOR.construct_scalar(node)
    if node.tag == "tag:yaml.org,2002:str" or node.style in ("'", '"'):
        return value
    try:
        resolved = _CONSTRUCTOR.construct_object(node)
    except (ValueError, OverflowError, yaml.YAMLError):  # 5000-digit ints, 2024-13-45 dates
        return value
    if isinstance(resolved, int | float | bool) or resolved is None:
        return resolved
    return value


_CONSTRUCTOR = yaml.SafeLoader("")


def load_source(text: str, name: str = "<menu>", limits: YamlLimits = DEFAULT_LIMITS) -> Source:
    """Parse YAML text; raises SourceError (with a line) for malformed YAML, YAML beyond
    `limits`, recursive aliases and keys that are not plain values."""
    root = compose_limited(text, limits)
    src = Source(None, name)
    if root is None:
        return src
    src.data = _build(root, (), src)
    return src


def _build(node: yaml.Node, path: Path, src: Source) -> Any:
    src.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError(
                    f"{format_path(path) or 'top level'}: a key must be a plain value, "
                    "not a mapping or list",
                    key_node.start_mark.line + 1,
                )
            key = _scalar(key_node)
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in out:
                src.duplicates.append((child, key_node.start_mark.line + 1))
                continue
            out[key] = _build(value_node, child, src)
            src.lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), src) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node)
