"""Binary and pickle mismatches: compiled code built against another numpy or protobuf, and a pickled model
that this environment cannot read back (a class not where it was, a file that is no pickle, a newer protocol).
"""

from __future__ import annotations

import re
from typing import Any

from ..pip_names import pip_name
from .known import Known, base_name, in_loader, innermost_package, package_of

_NUMPY_RE = re.compile(
    r"numpy\.dtype size changed, may indicate binary incompatibility(?:\. Expected (\d+) from C header, got (\d+))?"
    r"|compiled using NumPy 1\.x cannot be run in\s+NumPy 2|numpy\.core\.multiarray failed to import"
    r"|_ARRAY_API not found"
)


def numpy_binary(kind: str, message: str, files: list[str]) -> Known | None:
    """A compiled package built against another numpy: numpy 2 broke every wheel built for 1.x."""
    match = _NUMPY_RE.search(message)
    if match is None:
        return None
    package = innermost_package(files, skip=("numpy",))
    name = pip_name(package) if package else None
    built_for_1 = (match.group(1), match.group(2)) == ("96", "88") or "NumPy 1.x" in message
    who = name or "a compiled package"
    cause = (
        f"{who} was built for numpy 1.x and numpy 2 is installed"
        if built_for_1
        else f"{who} was built against another numpy than the one installed"
    )
    return Known(
        "numpy_binary",
        f"binary incompatibility: {cause} ({match.group(0)}): pin numpy<2 in the conda file, or install a "
        f"{name or 'package'} release built for the installed numpy (reinstall it, so that pip picks the matching "
        "wheel)",
        {"package": name, "numpy_2_installed": built_for_1 or None},
    )


def protobuf_version(kind: str, message: str, files: list[str]) -> Known | None:
    """Generated ``_pb2.py`` code older than the installed protobuf, which 4 and newer refuse to load."""
    if re.search(r"Descriptors cannot (?:not )?be created directly", message) is None:
        return None
    generated = next((f for f in reversed(files) if base_name(f).endswith("_pb2.py")), None)
    package = package_of(generated) if generated else None
    if package:
        who = f"{pip_name(package)}'s generated protobuf code ({base_name(generated or '')})"
    else:
        who = f"generated protobuf code ({base_name(generated) if generated else 'a _pb2.py file'})"
    return Known(
        "protobuf_version",
        f"{who} is older than the installed protobuf (4 or newer refuses it): pin protobuf<4 (3.20.x) in the conda "
        "file, or set PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python in the deployment's environment_variables "
        "(pure Python, slower)"
        + (f", or upgrade {pip_name(package)}" if package else ", or regenerate it with protoc 3.19 or newer"),
        {"package": pip_name(package) if package else None, "generated_file": generated},
    )


_ATTRIBUTE_RE = re.compile(r"Can't get attribute '([^']+)' on <module '([^']+)'")


def class_not_found(kind: str, message: str, files: list[str]) -> Known | None:
    """Unpickling found no class where the pickle says it was: see `cant_get_attribute`."""
    if "Can't get attribute" not in message:
        return None
    return cant_get_attribute(message)


def cant_get_attribute(message: str) -> Known:
    """``Can't get attribute 'Scaler' on <module '__main__'>``: a class the unpickler cannot find where it was."""
    found = _ATTRIBUTE_RE.search(message)
    name, where = (found.group(1), found.group(2)) if found else ("a class", "a module")
    main = where == "__main__" or where.endswith(".__main__")
    facts: dict[str, Any] = {"name": name, "module": where}
    if main:
        fix = (
            " (it was defined in the training script run as __main__): move the class into a module that both "
            "training and score.py import, or import it into score.py before loading"
        )
        return Known(
            "model_load", f"the pickle refers to {name} in module '__main__', which does not define it here{fix}", facts
        )
    package = pip_name(where.partition(".")[0]) if found else None
    facts["package"] = package
    return Known(
        "library_version" if package else "model_load",
        f"the pickle refers to {name} in module {where!r}, which does not define it here: the library version "
        f"differs from the one that saved the model; pin "
        + (f"{package} to the version the model was saved with in the conda file" if package else "it"),
        facts,
    )


def pickle_bytes(kind: str, message: str, files: list[str]) -> Known | None:
    """A model file that is not a readable pickle: an LFS pointer, an empty file, a newer protocol."""
    if "invalid load key" in message:
        lfs = "'v'" in message
        return Known(
            "model_load",
            "the model file is not a pickle ("
            + (
                "it starts with 'v': a Git LFS pointer file, not the model; fetch the real file with `git lfs pull` "
                "before registering it"
                if lfs
                else "the wrong file, or a truncated or text file"
            )
            + ")",
            {"git_lfs_pointer": lfs},
        )
    if (kind == "EOFError" and ("Ran out of input" in message or in_loader(files))) or (
        not kind and message.startswith("Ran out of input")
    ):
        return Known(
            "model_load", "the model file is empty or truncated (EOF while unpickling): re-register the model", {}
        )
    if "unsupported pickle protocol" in message:
        return Known(
            "model_load", "the model was pickled by a newer Python than this one: use the same Python version", {}
        )
    return None
