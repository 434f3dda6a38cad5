"""The import graph of ``importer``: every edge allowed by the stage layers, and no cycle.

``python -m importer._devtools.imports`` prints the graph by package and exits 1 on a violation;
``tests/test_architecture.py`` runs the same check. Imports inside functions count too: a lazy
import is still a dependency (it only moves the cost).

The layers, low to high (each package's docstring says the same):

    foundation  errors, config, endpoint, outcomes, problems, fields, arrowtext, formulas, suggestions:
                only each other
    read, validate, report, ledger, sandbox: the foundation only
    mapping     + read, validate
    push        + ledger
    plans       + read, validate, mapping, ledger, push
    paths       + ledger, report (which files a run writes, checked before it starts)
    parallel, pipeline: any of the above
    cli (with cli_parser, cli_commands), demo, ui, the package's __init__ and __main__, _devtools: anything
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["ALLOWED", "FOUNDATION", "check", "cycles", "import_graph", "violations"]

PACKAGE_DIR = Path(__file__).resolve().parents[1]
FOUNDATION = frozenset(
    {"errors", "config", "endpoint", "outcomes", "problems", "fields", "arrowtext", "formulas", "suggestions"}
)
_BELOW_PLANS = frozenset({"read", "validate", "mapping", "ledger", "push"})
#: group -> the groups (besides the foundation and itself) it may import
ALLOWED: dict[str, frozenset[str]] = {
    **{name: frozenset() for name in FOUNDATION},
    "read": frozenset(),
    "validate": frozenset(),
    "report": frozenset(),
    "ledger": frozenset(),
    "sandbox": frozenset(),
    "mapping": frozenset({"read", "validate"}),
    "push": frozenset({"ledger"}),
    "plans": _BELOW_PLANS,
    "paths": frozenset({"ledger", "report"}),
    "parallel": _BELOW_PLANS | {"plans", "report"},
    "pipeline": _BELOW_PLANS | {"plans", "report", "parallel", "paths"},
}
_TOP = {"cli", "cli_commands", "cli_parser", "demo", "ui", "__init__", "__main__", "_devtools"}  # may import anything


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (at any depth of its code)."""
    files = {_module_name(p): p for p in sorted(package_dir.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        here = name if is_pkg else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for a in node.names:
                    deps.add(f"{base}.{a.name}" if f"{base}.{a.name}" in files else base)
        graph[name] = {d for d in deps if d in files and d != name and not name.startswith(d + ".")}
    return graph


def group_of(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Edges that go up or sideways in the layers."""
    out = []
    for mod, deps in sorted(graph.items()):
        g = group_of(mod)
        if g in _TOP:
            continue
        allowed = ALLOWED.get(g)
        for dep in sorted(deps):
            d = group_of(dep)
            if allowed is None:
                out.append(f"{mod}: its package '{g}' has no place in the layers (add it to ALLOWED)")
                break
            if d != g and d not in FOUNDATION and d not in allowed:
                out.append(f"{mod} imports {dep}: '{g}' may not import '{d}'")
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(iter(children), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def check(graph: dict[str, set[str]] | None = None) -> list[str]:
    """Every problem with the import graph, as lines a person reads; empty when it is sound."""
    graph = import_graph() if graph is None else graph
    return [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)] + violations(graph)


def main() -> int:
    graph = import_graph()
    by_group: dict[str, set[str]] = {}
    for mod, deps in graph.items():
        by_group.setdefault(group_of(mod), set()).update(group_of(d) for d in deps if group_of(d) != group_of(mod))
    for g in sorted(by_group):
        print(f"{g:<11} -> {', '.join(sorted(by_group[g])) or '-'}")
    problems = check(graph)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports: "
          + ("no cycle, every import within the layers" if not problems else f"{len(problems)} problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
