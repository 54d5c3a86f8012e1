"""YAML menu text -> plain data, keeping the line of every value (for the checker's reports).

Paths are tuples of keys and list indexes, e.g. ("nodes", "main", "options", 1, "dtmf");
`format_path` renders them as `nodes.main.options[1].dtmf`. Duplicate mapping keys are
errors (YAML would silently keep the last one).
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
    resolved = _CONSTRUCTOR.construct_object(node)
    if isinstance(resolved, int | float | bool) or resolved is None:
        return resolved
    return value


_CONSTRUCTOR = yaml.SafeLoader("")


def load_source(text: str, name: str = "<menu>") -> Source:
    """Parse YAML text; raises SourceError (with a line) for malformed YAML."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise SourceError(f"invalid YAML: {exc.problem}", line) from exc
    except yaml.YAMLError as exc:
        raise SourceError(f"invalid YAML: {exc}") from exc
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
            key = (
                _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            )
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
