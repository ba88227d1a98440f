"""``kubectl describe pod``: each container's state, why it last stopped, its restarts and its memory limit.

Why a module of its own: this is the one platform text whose meaning is in its layout, not in a message. The
``Containers:`` section is indented under its heading, so it reaches `shim.logs.meaning.platform` as one bare
record whose lines are read here, container by container (a lowercase ``name:`` line opens one):

    inference-server:
      State:          Waiting
        Reason:       CrashLoopBackOff
      Last State:     Terminated
        Reason:       OOMKilled
        Exit Code:    137
      Restart Count:  5
      Limits:
        memory:  1Gi

A waiting CrashLoopBackOff is a crash loop; a termination is explained by its reason (OOMKilled) or its exit code
(`shim.logs.meaning.exit_codes`), with the memory limit when the paste has it. A ``Limits:`` block pasted in a
record of its own fills in the limit of a memory failure told before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..tally.explained import Explanation
from .exit_codes import OOM_KILLED, exit_code_explanation
from .notes import Notes

MARKERS = ("State:", "Exit Code:", "Limits:")  # literals: `shim.logs.meaning.platform` makes one search of them

CRASH_LOOP = Explanation(
    "the container is in a crash loop (CrashLoopBackOff)",
    "the container starts, stops, and Kubernetes restarts it after a longer wait each time; why it stops is "
    "in its last state (exit code, reason) and in its log: most often score.py fails to import or init() "
    "raises (exit code 3), or the container runs out of memory (OOMKilled, exit code 137)",
    "read the log of the run that stopped (kubectl logs --previous, or az ml online-deployment get-logs) with "
    "score-shim logs; reproduce init() locally with score-shim check score.py --model-dir MODEL_FOLDER",
    "#error-kubernetescrashloopbackoff",
)

IMAGE_PULL = Explanation(
    "the container image could not be pulled",
    "the node could not download the scoring image from the container registry: the image or tag does not "
    "exist, or the cluster or the endpoint's identity may not pull from the registry (AcrPull), or the "
    "network blocks it",
    "check that the image exists (az acr repository show-tags), give the endpoint's identity (or the cluster) "
    "the AcrPull role on the workspace's registry, and check the network rules between them",
    "#unable-to-download-user-container-image",
)

_FIELD_RE = re.compile(r"(\s*)([A-Z][A-Za-z ]*):\s*(.*?)\s*$")
_CONTAINER_RE = re.compile(r"\s*([a-z0-9][-a-z0-9.]*):\s*$")
_MEMORY_RE = re.compile(r"(\s*)memory:\s+(\S+)")
_STOPPED = ("Terminated",)


@dataclass
class _State:
    value: str
    lines: list[str]
    reason: str = ""
    exit_code: int | None = None


@dataclass
class _Container:
    name: str
    states: dict[str, _State] = field(default_factory=dict)  # "State", "Last State"
    restarts: str = ""
    memory_limit: str = ""


def read_pod_state(notes: Notes, lines: list[str]) -> None:
    """The containers a ``kubectl describe pod`` record describes: each one's crash loop and last stop."""
    containers = _containers(lines)
    for container in containers:
        _explain(notes, container)
    limits = [container.memory_limit for container in containers if container.memory_limit]
    if limits and not notes.has("oom-killed") and not notes.has("exit-code-137"):
        for kind in ("oom-killed", "exit-code-137"):  # the limit, pasted apart from the stop it explains
            notes.enrich(kind, {"memory limit": limits[0]})


def _containers(lines: list[str]) -> list[_Container]:
    containers: list[_Container] = []
    current: _Container | None = None
    state: _State | None = None
    state_indent = limits_indent = -1
    for line in lines:
        if _CONTAINER_RE.fullmatch(line):
            current = _Container(line.strip()[:-1])
            containers.append(current)
            state, limits_indent = None, -1
            continue
        match = _FIELD_RE.fullmatch(line)
        if match is None:
            memory = _MEMORY_RE.match(line) if limits_indent >= 0 else None
            if memory and current is not None and len(memory.group(1)) > limits_indent:
                current.memory_limit = memory.group(2)
            continue
        indent, key, value = len(match.group(1)), match.group(2), match.group(3)
        if current is None:  # a fragment pasted without its container's name
            current = _Container("")
            containers.append(current)
        if state is not None and indent > state_indent:
            if key == "Reason":
                state.reason = value
                state.lines.append(line)
            elif key == "Exit Code" and value.isdigit():
                state.exit_code = int(value)
                state.lines.append(line)
            continue
        state, limits_indent = None, -1
        if key in ("State", "Last State") and value:
            state = current.states[key] = _State(value, [line])
            state_indent = indent
        elif key == "Restart Count":
            current.restarts = value
        elif key == "Limits":
            limits_indent = indent
    return containers


def _explain(notes: Notes, container: _Container) -> None:
    details = {"container": container.name, "restarts": container.restarts}
    waiting = container.states.get("State")
    stopped = next((s for s in (container.states.get("Last State"), waiting) if s and s.value in _STOPPED), None)
    if stopped is not None and stopped.exit_code is not None:
        details["last exit code"] = str(stopped.exit_code)
    if waiting is not None and waiting.value == "Waiting":
        if waiting.reason == "CrashLoopBackOff":
            notes.add("crash-loop", CRASH_LOOP, _evidence(waiting), details)
        elif waiting.reason in ("ImagePullBackOff", "ErrImagePull"):
            notes.add("image-pull", IMAGE_PULL, _evidence(waiting), {"container": container.name})
    if stopped is None or (stopped.exit_code in (None, 0) and stopped.reason != "OOMKilled"):
        return
    details = {"container": container.name, "restarts": container.restarts}
    if stopped.exit_code is not None:
        details["exit code"] = str(stopped.exit_code)
    if stopped.reason == "OOMKilled" or stopped.exit_code == 137:
        details["memory limit"] = container.memory_limit
    if stopped.reason == "OOMKilled":
        notes.add("oom-killed", OOM_KILLED, _evidence(stopped), details)
    elif stopped.exit_code is not None:
        code = stopped.exit_code
        notes.add(f"exit-code-{code}", exit_code_explanation(code), _evidence(stopped), details)


def _evidence(state: _State) -> str:
    """The state's lines as one: ``Last State: Terminated | Reason: OOMKilled | Exit Code: 137``."""
    return " | ".join(" ".join(line.split()) for line in state.lines)
