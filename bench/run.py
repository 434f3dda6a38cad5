"""Run every benchmark of the project (``make bench``): validate, push, then the workbench (ui).

    .venv/bin/python bench/run.py [--only validate|push|ui]

Each benchmark module has a ``main(argv)`` and prints its own table; bench/README.md holds
the figures measured on this project's machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("validate", "push", "ui")


def _load(name: str) -> ModuleType | None:
    path = HERE / f"{name}_bench.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=BENCHMARKS, help="run one benchmark")
    args = parser.parse_args(argv)
    for name in BENCHMARKS:
        if args.only and name != args.only:
            continue
        module = _load(name)
        if module is None:
            print(f"== {name}: bench/{name}_bench.py not found, skipped")
            continue
        print(f"== {name} benchmark", flush=True)
        _run_main(module)
    return 0


def _run_main(module: ModuleType) -> None:
    """Call ``module.main`` with default options, whether it takes ``argv`` or reads sys.argv."""
    if inspect.signature(module.main).parameters:
        module.main([])
        return
    saved = sys.argv
    sys.argv = [str(module.__file__)]
    try:
        module.main()
    finally:
        sys.argv = saved


if __name__ == "__main__":
    sys.exit(main())
