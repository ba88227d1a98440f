"""How a rehearsed deployment is shown to a person: where things are in the container, then what was found.

Shared by ``check --deployment`` (inside its report) and ``serve --deployment`` (before the server's own
lines). Every value comes from the user's files (YAML keys, paths, module names): each is escaped so that
none reaches the terminal as an escape sequence or draws a line of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import click

from ..stream.console import escape

Echo = Callable[[str], None]

_LEVEL_STYLE = {"error": ("red", True), "warning": ("yellow", True), "note": ("cyan", False)}
_ORDER = {"error": 0, "warning": 1, "note": 2}
#: An anonymous model's name (64 hex digits): shown by its first 8, as git shows a commit.
_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def render_deployment(section: dict[str, Any], echo: Echo) -> None:
    """The layout in the container's terms, the settings the server gets, and the findings, worst first."""
    kind = "Kubernetes" if section.get("kind") == "kubernetes" else "managed"
    echo(
        click.style(f"deployment {escape(str(section.get('name')))} ({kind}) from {escape(section['yaml'])}", bold=True)
    )
    echo(f"  script             {escape(section['entry_script'])}   (AML_APP_ROOT={escape(section['aml_app_root'])})")
    model = section.get("model")
    if model:
        shown = in_container(escape(section["azureml_model_dir"]), None)
        echo(f"  AZUREML_MODEL_DIR  {shown}   (from {escape(model['source'])})")
    else:
        echo("  AZUREML_MODEL_DIR  (no model in the deployment)")
    settings = [f"SCORING_TIMEOUT_MS={section['scoring_timeout_ms']}"]
    if section.get("memory_limit_bytes"):
        settings.append(
            f"memory {section['memory_limit_bytes'] / 1_073_741_824:,.1f} GiB ({section.get('instance_type')})"
        )
    names = section.get("environment_variables") or []
    if names:
        settings.append("environment_variables " + ", ".join(escape(name) for name in names))
    echo("  settings           " + "; ".join(settings))
    render_findings(section.get("findings") or [], echo)


def in_container(text: str, section: dict[str, Any] | None) -> str:
    """``text`` with the rehearsal's temporary folder named as the container names it, long hashes cut."""
    if section and section.get("folder"):
        text = text.replace(str(section["folder"]), "/var/azureml-app")
    return _HASH.sub(lambda match: match.group()[:8] + "…", text)


def render_findings(findings: list[dict[str, Any]], echo: Echo) -> None:
    for finding in sorted(findings, key=lambda item: _ORDER.get(item.get("level", "note"), 3)):
        level = finding.get("level", "note")
        color, bold = _LEVEL_STYLE.get(level, ("white", False))
        label = click.style(f"{level:<7}", fg=color, bold=bold)
        echo(f"  {label} {escape(finding.get('topic', ''))}: {escape(finding.get('message', ''))}")
        if finding.get("fix"):
            echo(f"          fix: {escape(finding['fix'])}")
