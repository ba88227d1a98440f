"""Find and import the user's original entry script, the way the server would, minus its trap.

The server imports the entry script with ``spec_from_file_location("entry_module", path)`` and never puts
it in ``sys.modules``. Anything that looks a class up by its module then fails: pickling a class defined
in score.py, ``@dataclass`` under ``from __future__ import annotations``. The shim registers the module
under its file's name before running it (as ``import score`` would), which fixes both.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from typing import Any

ENV_ENTRY_SCRIPT = "SCORE_SHIM_ENTRY_SCRIPT"

#: The name the server gives the entry module; used when the file's own name is taken or unusable.
FALLBACK_MODULE_NAME = "entry_module"


class ScriptLoadError(Exception):
    """The user's entry script cannot be found or used; the message says what is wrong and what to do."""

    explains_itself = True


def candidate_paths(value: str, environ: dict[str, str] | os._Environ[str] | None = None) -> list[Path]:
    """Where a relative ``SCORE_SHIM_ENTRY_SCRIPT`` may live, in the order they are tried.

    ``AML_APP_ROOT`` first (the documented base), then the folder of the server's entry script (on a
    managed endpoint the shim's one-line entry file sits beside score.py), then the working directory.
    """
    env = os.environ if environ is None else environ
    path = Path(value).expanduser()
    if path.is_absolute():
        return [path]
    bases: list[Path] = []
    if env.get("AML_APP_ROOT"):
        bases.append(Path(env["AML_APP_ROOT"]))
    if env.get("AZUREML_ENTRY_SCRIPT"):
        # The server joins a relative AZUREML_ENTRY_SCRIPT (e.g. "onlinescoring/shim_entry.py") to AML_APP_ROOT.
        server_entry = Path(env.get("AML_APP_ROOT", "")) / env["AZUREML_ENTRY_SCRIPT"]
        bases.append(server_entry.parent)
    bases.append(Path.cwd())
    seen: list[Path] = []
    for base in bases:
        candidate = base / path
        if candidate not in seen:
            seen.append(candidate)
    return seen


def resolve_entry_script(
    value: str | None,
    environ: dict[str, str] | os._Environ[str] | None = None,
) -> Path:
    """The user's script as an absolute path, or a `ScriptLoadError` that says what to fix."""
    if not value:
        raise ScriptLoadError(
            f"{ENV_ENTRY_SCRIPT} is not set. Set it to your original entry script (for example score.py), "
            "absolute or relative to AML_APP_ROOT; `score-shim serve score.py` sets it for you."
        )
    candidates = candidate_paths(value, environ)
    for candidate in candidates:
        if candidate.is_file():
            resolved = candidate.resolve()
            if resolved.suffix != ".py":
                raise ScriptLoadError(f"{ENV_ENTRY_SCRIPT}={value!r} is {resolved}, which is not a .py file.")
            return resolved
    for candidate in candidates:
        if candidate.is_dir():
            # Likely entry scripts first (score*.py, main.py), then the rest, ten at most.
            names = sorted(
                (p.name for p in candidate.glob("*.py")), key=lambda n: ("score" not in n and n != "main.py", n)
            )
            more = f" and {len(names) - 10} more" if len(names) > 10 else ""
            hint = f" It holds: {', '.join(names[:10])}{more}." if names else " It holds no .py file."
            raise ScriptLoadError(
                f"{ENV_ENTRY_SCRIPT}={value!r} is a directory ({candidate}); name the script inside it.{hint}"
            )
    looked = ", ".join(str(c) for c in candidates)
    raise ScriptLoadError(
        f"{ENV_ENTRY_SCRIPT}={value!r}: no such file (looked at {looked}). "
        "Give the path of your score.py, absolute or relative to AML_APP_ROOT."
    )


def _module_name(path: Path) -> str:
    name = path.stem
    if name.isidentifier() and name not in sys.modules:
        return name
    if FALLBACK_MODULE_NAME not in sys.modules:
        return FALLBACK_MODULE_NAME
    return f"score_shim_{abs(hash(path))}"


def import_script(path: Path) -> ModuleType:
    """Import the script as a real module (registered in ``sys.modules``); its exceptions pass unchanged."""
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ScriptLoadError(f"{path} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        # As a failed `import` does: no half-initialised module left behind.
        sys.modules.pop(name, None)
        raise
    return module


def entry_points(module: ModuleType) -> tuple[Any, Any]:
    """The ``init`` and ``run`` the server would call, including its ``driver_module`` rule.

    Some Azure SDKs generate a driver script whose ``driver_module`` attribute is the real score script;
    the server then calls the driver's ``init`` but the inner module's ``run``.
    """
    where = getattr(module, "__file__", module.__name__)
    for name in ("init", "run"):
        if not callable(getattr(module, name, None)):
            what = (
                "init() is called once when the server starts"
                if name == "init"
                else ("run() is called for every request")
            )
            raise ScriptLoadError(f"{where} defines no {name}() function: {what}. Add one.")
    run = module.run
    driver = getattr(module, "driver_module", None)
    if isinstance(driver, ModuleType) and hasattr(driver, "run"):
        run = driver.run
    return module.init, run
