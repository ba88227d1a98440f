"""The house rules of ``shim/``, read from the source: what runs in the server never imports the terminal's code.

The folders say where code runs (README, "Layout"): ``runtime`` and ``stream`` run inside the server's worker
on someone else's request path, ``cli`` and ``logs`` in the user's terminal. These tests read every module's
imports (module level and inside functions alike) with ``ast``, so that a wrong import fails here, by name,
before it slows a worker down or pulls click into a container.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHIM = Path(__file__).resolve().parent.parent / "shim"

#: What each part may import of the shim, besides itself. Everything may import the ground floor.
GROUND_FLOOR = {"shim.settings", "shim._version", "shim.stream.context"}
MAY_IMPORT = {
    "shim.stream": {"shim.stream"},
    "shim.models": {"shim.models", "shim.stream"},
    "shim.runtime": {"shim.runtime", "shim.models", "shim.stream"},
    "shim.cli": {"shim.cli", "shim.runtime", "shim.models", "shim.stream", "shim.logs", "shim.deploy"},
    "shim.deploy": {"shim.deploy", "shim.runtime", "shim.models", "shim.stream"},
    "shim.logs": {"shim.logs", "shim.runtime", "shim.models", "shim.stream"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SHIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The shim modules that ``path`` imports, relative imports resolved; ``from x import y`` counts y too."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {module for module in found if module == "shim" or module.startswith("shim.")}


def _shim_modules() -> dict[str, set[str]]:
    """Every module of the shim and the shim modules (not names) it imports."""
    modules = {_module_name(path): path for path in SHIM.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules} for name, path in modules.items()}


def _part(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_top_of_the_package_is_only_its_public_face() -> None:
    top = sorted(path.name for path in SHIM.glob("*.py"))
    assert len(top) <= 4, top
    parts = sorted(path.name for path in SHIM.iterdir() if path.is_dir() and (path / "__init__.py").exists())
    assert parts == ["cli", "deploy", "logs", "models", "runtime", "stream"]


@pytest.mark.parametrize("part", ["runtime", "stream", "models", "cli", "logs", "deploy"])
def test_each_part_says_what_runs_there(part: str) -> None:
    docstring = ast.get_docstring(ast.parse((SHIM / part / "__init__.py").read_text(encoding="utf-8")))
    assert docstring and len(docstring) > 200, f"shim/{part}/__init__.py needs a docstring that says what runs there"
    assert "import" in docstring, f"shim/{part}/__init__.py should say what it may import"


def test_imports_only_go_down() -> None:
    wrong = []
    for module, imported in sorted(_shim_modules().items()):
        allowed = MAY_IMPORT.get(_part(module))
        if module in GROUND_FLOOR:
            allowed = set()  # the ground floor imports nothing of the shim: everything stands on it
        if allowed is None:
            continue  # the public face (shim/__init__.py, __main__.py) may use every part
        for target in sorted(imported - GROUND_FLOOR - {module}):
            if _part(target) not in allowed:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "imports that go up or sideways:\n" + "\n".join(wrong)


def test_worker_code_never_imports_the_terminals_code() -> None:
    # The issue's own check, stated on its own: runtime and stream never reach cli or logs.
    for module, imported in _shim_modules().items():
        if _part(module) in ("shim.runtime", "shim.stream", "shim.models"):
            assert not {m for m in imported if _part(m) in ("shim.cli", "shim.logs", "shim.deploy")}, module


def test_no_import_cycles() -> None:
    # A module's own packages are not edges: Python initialises them first whatever the module imports.
    graph = {
        module: {target for target in imported if not module.startswith(target + ".")}
        for module, imported in _shim_modules().items()
    }
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_importing_the_worker_code_loads_no_terminal_code() -> None:
    # What the server imports: the drop-in entry's modules and `import shim`. No click, no CLI, no reader.
    code = (
        "import sys, shim, shim.runtime.entry; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'debugpy') "
        "or m.startswith(('shim.cli', 'shim.logs', 'shim.deploy'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"


#: What a worker's start does without (issue 17, a lighter start): loaded where they are needed, if ever.
HEAVY = (
    "typing",  # annotations only (`TYPE_CHECKING`)
    "dataclasses",  # and inspect, ast, dis, tokenize with it
    "inspect",
    "json",  # on the first line rendered
    "datetime",
    "sysconfig",  # on the first failure's frames
    "asyncio",  # structlog's, on the first line logged
    "structlog",
    "shim.models.paths",  # when init() runs, or shim.get_model_path is read
    "shim.runtime.debugger",  # when a debug port is asked for
    "socket",
)


def test_the_drop_in_entry_and_import_shim_load_nothing_heavy(tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text("def init():\n    pass\n\n\ndef run(raw_data):\n    return raw_data\n")
    # A bare environment: a short secret-looking variable would make the start log a warning (and so load structlog).
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    env.update(SCORE_SHIM_ENTRY_SCRIPT=str(tmp_path / "score.py"), AML_APP_ROOT=str(tmp_path))
    show = f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    for statement in ("import shim", "import score_wrappers.entry"):
        code = f"import sys; {statement}; {show}"
        loaded = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, env=env, cwd=tmp_path
        )
        assert loaded.stdout.strip().splitlines()[-1] == "[]", statement
