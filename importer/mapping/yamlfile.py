"""Reading a mapping file's YAML within bounds, every failure one :class:`MappingError` line.

A mapping is a few KB of YAML written by hand, so anything far outside that is refused before it
can cost time or memory: a file over :data:`MAX_BYTES`, binary or non-UTF-8 bytes, nesting deeper
than :data:`MAX_DEPTH`, and a document that expands past :data:`MAX_NODES` nodes. The last is what
stops an alias bomb (``&a [x, x, ...]``, ``&b [*a, *a, ...]``, ...): PyYAML shares an aliased node
instead of copying it, so loading is cheap, but everything that walks the result afterwards
(checks, messages) meets every copy. The expanded size is counted once per node on the composed
graph, before any Python object is built. A key given twice in the same block is refused too,
naming the key, both lines and where it is (YAML would keep the last one silently).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from importer.errors import MappingError, quote

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "read_yaml", "with_header_row"]

#: The largest mapping file read (the biggest preset is ~3 KB).
MAX_BYTES = 256 * 1024
#: The deepest nesting of lists and blocks (a preset goes 6 deep).
MAX_DEPTH = 32
#: The most nodes a mapping may have with its aliases expanded (a preset has ~200).
MAX_NODES = 10_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TOO_MANY = f"the YAML expands to more than {MAX_NODES:,} items"
_WRITE_OUT = "; a mapping needs a few hundred: is this the right file? (write it out without aliases)"
#: Numbers past ~1,000 decimal digits are refused (int -> str refuses 4,300).
_MAX_INT_BITS = 3322
#: ``<<`` in the check for keys given twice (no value built from YAML is this object).
_MERGE_KEY = object()


class _Refused(Exception):
    """A bound broken while composing: becomes a MappingError naming the file."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting and repeated keys while it composes the document."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str] = []
        self._nodes = 0  # composed so far: never more than the expanded count bounded by MAX_NODES

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # ``index`` is the key node for a block's value, the item's number in a list (from 0).
        if isinstance(index, ScalarNode):
            self._path.append(f".{index.value}" if any(self._path) else str(index.value))
        elif isinstance(index, int) and not isinstance(index, bool):
            self._path.append(f"[{index + 1}]")
        else:
            self._path.append("")
        self._nodes += 1
        try:
            if len(self._path) > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(
                    f"{where(self._path)} nests deeper than {MAX_DEPTH} levels (line {mark.line + 1}); "
                    "a mapping needs a few levels: is this the right file?"
                )
            if self._nodes > MAX_NODES:  # refused here, not after reading 256 KB of items (seconds)
                mark = self.peek_event().start_mark
                raise _Refused(f"{_TOO_MANY} (past it at line {mark.line + 1}, column {mark.column + 1}){_WRITE_OUT}")
            return super().compose_node(parent, index)
        finally:
            self._path.pop()

    # ``anchor`` is the event's anchor name (str | None); types-PyYAML says dict[Any, Node], so Any here.
    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[Any, ScalarNode] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode):
                continue  # a list or block as a key is refused when built ("unhashable key")
            # Every pair is one occurrence of its key, even when both are one node (a key *k aliasing &k).
            key = _MERGE_KEY if key_node.tag == _MERGE_TAG else self.construct_object(key_node, deep=True)
            if key in seen:
                raise _Refused(self._twice(seen[key], key_node))
            seen[key] = key_node
        return node

    def _twice(self, first: ScalarNode, again: ScalarNode) -> str:
        at = where(self._path)
        one, two = first.start_mark, again.start_mark
        if first is again:
            lines = f"line {one.line + 1}, and again through an alias *name"
        elif one.line == two.line:
            lines = f"line {one.line + 1}, columns {one.column + 1} and {two.column + 1}"
        else:
            lines = f"lines {one.line + 1} and {two.line + 1}"
        return (
            f"key {quote(again.value)} is given twice{' in ' + at if at else ''} ({lines}); "
            "YAML would keep only one: keep one of them"
        )

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            value = super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:  # a date like 2024-13-45, a 5,000-digit number
            raise ConstructorError(None, None, f"cannot read {quote(node.value)} ({exc})", node.start_mark) from exc
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            # 0x/0o/0b digits are not limited as decimal ones are: such a number cannot even be printed.
            raise ConstructorError(
                None, None, f"cannot read {quote(node.value)} (a number of over 1,000 digits)", node.start_mark
            )
        return value


def where(path: list[str]) -> str:
    """A key path as the mapping's messages write it: ``contacts[2].relation``."""
    return quote("".join(path), limit=120).strip("'\"")


def _expanded_size(root: Node) -> int | None:
    """Nodes of the document with every alias expanded, or None when an alias contains itself.

    Post-order over the node graph with each node's size memoised, so shared (aliased) nodes
    are visited once; no recursion, whatever the depth.
    """
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_nodes.discard(key)
            size[key] = min(1 + sum(size[id(c)] for c in children), MAX_NODES + 1)
            continue
        if key in size:
            continue
        if key in open_nodes:
            return None
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    return size[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def read_yaml(path: Path) -> Any:
    """The YAML document of the mapping file ``path`` (None when empty); MappingError past a bound."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise MappingError(f"mapping {path}: cannot be read ({exc.strerror or exc})") from exc
    if len(raw) > MAX_BYTES:
        raise MappingError(
            f"mapping {path}: the file is over {MAX_BYTES // 1024} KB; a mapping is a short YAML text "
            "(a preset is about 3 KB): is this the right file?"
        )
    if b"\0" in raw:
        raise MappingError(f"mapping {path}: is a binary file, not YAML text: is this the right file?")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(
            f"mapping {path}: is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start:,}); "
            "save it as UTF-8"
        ) from exc
    try:
        return _load(text)
    except _Refused as exc:
        raise MappingError(f"mapping {path}: {exc.message}") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping {path}: not valid YAML{_yaml_problem(exc, text)}") from None


def _load(text: str) -> Any:
    loader = _BoundedLoader(text)  # ReaderError here for a control character
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node)
        if size is None:
            raise _Refused("an alias (*name) refers to the block that contains it; write the block out")
        if size > MAX_NODES:
            raise _Refused(f"{_TOO_MANY} (anchors &name and aliases *name repeat what they name){_WRITE_OUT}")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """" at line 3, column 5; <the problem> (<its context>)", one line, quoted values capped."""
    if isinstance(exc, yaml.reader.ReaderError):  # a control character: a position, no mark
        pos = min(max(0, exc.position), len(text))
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        return f" at line {line}, column {column}; the control character #x{char:02x} is not allowed: delete it"
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    context = getattr(exc, "context", None)
    return f"{at}; {problem}" + (f" ({context})" if context else "")


def with_header_row(text: str, row: int) -> str:
    """A mapping's YAML ``text`` with ``header_row: row`` before its ``kind:`` line (none for row 1):
    a suggested mapping keeps the header row it was made from."""
    if row <= 1:
        return text
    line = f"header_row: {row}   # the column headers are in row {row}; the rows above are passed over\n"
    at = text.find("\nkind:")
    return text[: at + 1] + line + text[at + 1 :] if at >= 0 else line + text
