"""What the scoring script imports from outside the code folder, read with ``ast`` and never run.

A missing package is the commonest reason a deployment never becomes healthy, and the container says so
only after a twenty-minute image build. The script and the code folder's own modules it imports say it
earlier: every ``import`` of a third-party module becomes a `Need` with the line it is on, so that
``environment.compare`` can name the package to add and where it is used.

Read, not run: the files are parsed with `ast` (a file that does not parse is skipped; the import the
rehearsal does next reports it), and the walk is bounded (`MAX_FILES`). What is left out, and why:

- the standard library (``sys.stdlib_module_names``) and ``__future__``. The server *appends* the code
  folder to ``sys.path`` (azureml-inference-server-http ``server/aml_blueprint.py``), so a standard module
  name always means the standard module, even when the folder has a file of that name;
- the code folder's own modules, relative (``from .utils import f``) or absolute (``import helpers`` where
  ``helpers.py`` or ``helpers/__init__.py`` is in the code folder or beside the script): they are
  followed instead, so that what *they* import counts;
- imports that cannot run in the container: the body of ``if TYPE_CHECKING:``;
- imports the script can do without: the body of a ``try`` whose ``except`` catches ``ImportError``
  (or ``ModuleNotFoundError``, ``Exception``, a bare ``except``) and does not re-raise. The script
  chose to run without them, so asking for them would be an error the container does not have.

Imports inside functions (``init()`` often imports there) count like any other.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .distributions import is_stdlib
from .needs import Need

_T = TypeVar("_T")

#: At most this many files are read: the script and the code folder's modules it reaches.
MAX_FILES = 200
#: A larger "module" is data, not code a person wrote: it is not parsed.
MAX_BYTES = 5_000_000
#: The exceptions an ``except`` catches that make the imports in its ``try`` optional.
IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass(frozen=True)
class _Import:
    """One import statement's target as written: ``from {'.' * level}{module} import {names}``."""

    module: str
    level: int
    names: tuple[str, ...]
    line: int


def script_imports(script: Path, code_root: Path, *, shown_root: str | None = None) -> list[Need]:
    """The third-party imports of ``script`` and of the code folder's modules it imports, in reading order.

    ``where`` reads ``<shown_root>/<file>:<line>``; ``shown_root`` defaults to the code folder's name.
    """
    roots = _unique([code_root.resolve(), script.resolve().parent])
    shown = shown_root or code_root.name
    needs: list[Need] = []
    queue = deque([script.resolve()])
    seen = set(queue)
    while queue:
        path = queue.popleft()
        for found in _imports(path):
            own = _own_files(found, path, roots)
            if own is None:
                needs.append(Need(module=found.module, where=f"{_shown(path, code_root, shown)}:{found.line}"))
                continue
            for module in own:
                if module not in seen and len(seen) < MAX_FILES:
                    seen.add(module)
                    queue.append(module)
    return _unique(needs)


# -- reading one file ------------------------------------------------------------------------------------


def _imports(path: Path) -> list[_Import]:
    """The imports in one file that the container runs; none when it cannot be read or parsed."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return []
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    reader = _Reader()
    reader.visit(tree)
    return reader.found


class _Reader(ast.NodeVisitor):
    """Collects imports, leaving out optional ones and those under ``if TYPE_CHECKING:``."""

    def __init__(self) -> None:
        self.found: list[_Import] = []
        self._optional = 0

    def visit_Import(self, node: ast.Import) -> None:
        if not self._optional:
            self.found += [_Import(alias.name, 0, (), node.lineno) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if not self._optional:
            names = tuple(alias.name for alias in node.names if alias.name != "*")
            self.found.append(_Import(node.module or "", node.level, names, node.lineno))

    def visit_Try(self, node: ast.Try) -> None:
        optional = _tolerates_import_error(node.handlers)
        self._optional += optional
        for statement in node.body:
            self.visit(statement)
        self._optional -= optional
        for part in (node.handlers, node.orelse, node.finalbody):
            for child in part:
                self.visit(child)

    # ``try: ... except* ImportError:`` (Python 3.11+) reads the same way.
    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)


def _tolerates_import_error(handlers: list[ast.ExceptHandler]) -> bool:
    """Whether one of the handlers catches a failed import and carries on (does not raise)."""
    for handler in handlers:
        caught = _names(handler.type) if handler.type is not None else {"BaseException"}
        reraises = any(isinstance(statement, ast.Raise) for statement in handler.body)
        if caught & IMPORT_ERRORS and not reraises:
            return True
    return False


def _names(node: ast.expr) -> set[str]:
    """The exception class names an ``except`` clause names: ``ImportError``, ``(A, b.B)``."""
    if isinstance(node, ast.Tuple):
        return {name for element in node.elts for name in _names(element)}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    if isinstance(node, ast.Name):
        return {node.id}
    return set()


def _is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:`` (never true when the script runs)."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


# -- the code folder's own modules -----------------------------------------------------------------------


def _own_files(found: _Import, path: Path, roots: list[Path]) -> list[Path] | None:
    """The code folder's files an import runs, or None when it is a third-party import (a need).

    The standard library and ``__future__`` are neither: an empty list, nothing to follow.
    """
    if found.level:
        base = path.parent
        for _ in range(found.level - 1):
            base = base.parent
        return _inside(_package_files(base, found), roots)
    if not found.module or is_stdlib(found.module):
        return []
    top = found.module.partition(".")[0]
    for root in roots:
        if _is_module(root, [top]):
            return _inside(_package_files(root, found), roots)
    return None


def _package_files(base: Path, found: _Import) -> list[Path]:
    """The files under ``base`` an import runs: each package on the dotted path, then imported submodules."""
    parts = found.module.split(".") if found.module else []
    files = [base / "__init__.py"] if found.level else []
    files += [_module_file(base, parts[: depth + 1]) for depth in range(len(parts))]
    files += [_module_file(base, [*parts, name]) for name in found.names]
    return [file for file in files if file.is_file()]


def _module_file(base: Path, parts: list[str]) -> Path:
    package = base.joinpath(*parts, "__init__.py")
    return package if package.is_file() else base.joinpath(*parts[:-1], parts[-1] + ".py")


def _is_module(root: Path, parts: list[str]) -> bool:
    """A module, a package, or a namespace package (a folder of ``.py`` files) under ``root``."""
    folder = root.joinpath(*parts)
    if _module_file(root, parts).is_file():
        return True
    try:
        return folder.is_dir() and any(folder.glob("*.py"))
    except OSError:
        return False


def _inside(files: list[Path], roots: list[Path]) -> list[Path]:
    """Only files in the code folder (or beside the script): a relative import never leads out of it."""
    resolved = [file.resolve() for file in files]
    return [file for file in resolved if any(file.is_relative_to(root) for root in roots)]


def _shown(path: Path, code_root: Path, shown: str) -> str:
    try:
        return f"{shown}/{path.relative_to(code_root.resolve()).as_posix()}"
    except ValueError:
        return path.name


def _unique(items: list[_T]) -> list[_T]:
    return list(dict.fromkeys(items))
