"""Kubernetes events and Azure ML's container events: crash loops, probe failures, scheduling, pulls, downloads.

Why together: the same events reach users in three dresses, and what they mean is in their message, whatever
the dress: the ``Events:`` table of ``kubectl describe pod`` (``Warning  BackOff  2m (x20 over 9m)  kubelet
Back-off restarting failed container``), ``kubectl get events``, and the ``Container events:`` that
``az ml online-deployment get-logs`` prints for a managed endpoint (``Kind: Pod, Name: LivenessProbeFailed,
Type: Warning, Time: ..., Message: Liveness probe failed: HTTP probe failed with statuscode: 502``), with its
``Instance status:`` lines (``ModelDownload: Failed``). Each line is read on its own; the scheduler's
``0/3 nodes are available: 3 Insufficient nvidia.com/gpu`` is read for which resource and how many nodes.
"""

from __future__ import annotations

import re

from ..tally.explained import Explanation
from .exit_codes import OOM_KILLED
from .notes import Notes
from .pod_state import CRASH_LOOP, IMAGE_PULL
from .scheduling import read_scheduling

MARKERS = (  # literals: `shim.logs.meaning.platform` makes one search of them
    "Back-off",
    "Liveness probe",
    "Readiness probe",
    "Startup probe",
    "Kind: Pod, Name:",
    "ModelDownload: Failed",
    "UserContainerImagePull: Failed",
    "UserContainerStart: Failed",
    "Failed to pull image",
    "Image pull failed",
    "OOMKilling",
    "Memory cgroup out of memory",
    "Model download failed",
    "Unable to download user model",
)

MODEL_DOWNLOAD = Explanation(
    "the model could not be downloaded into the container",
    "before the server starts, the storage initializer downloads the model (and code) from the workspace's "
    "storage; it failed: the model is registered in another workspace or its files were moved or deleted, or "
    "the endpoint's identity may not read the storage account",
    "check the model exists in the deployment's workspace (az ml model show --name NAME --version VERSION), read "
    "the storage initializer's log (az ml online-deployment get-logs --container storage-initializer), and give "
    "the endpoint's identity the Storage Blob Data Reader role on the workspace's storage account",
    "#unable-to-download-user-model",
)

CONTAINER_START = Explanation(
    "the scoring container did not start",
    "Azure ML pulled the image and downloaded the model, then the container failed to start or to become "
    "healthy: most often score.py fails to import or init() raises, or init() takes longer than the probes allow",
    "read the container log (az ml online-deployment get-logs) with score-shim logs; reproduce init() locally "
    "with score-shim check score.py --model-dir MODEL_FOLDER",
    "#error-resourcenotready",
)

_PROBE_CAUSE = (
    "Azure ML (Kubernetes) asks the scoring server for its health and got no good answer (see the answer above). "
    "A 502 means nginx "
    "answered but the server behind it did not (init() still running, or it crashed); a refused connection means "
    "nothing listens yet; a timeout means the server is stuck or too busy. "
)
_PROBE_FIX = (
    "if init() is slow (a large model to load), give it time in the deployment YAML ({probe}: initial_delay, "
    "period, failure_threshold, timeout) or use a bigger SKU; otherwise read the container log for the init() "
    "error (score-shim logs) or reproduce it with score-shim check"
)
PROBES = {
    "liveness": Explanation(
        "the liveness probe failed: the container is restarted",
        _PROBE_CAUSE + "After failure_threshold failures Kubernetes kills the container and starts it again.",
        _PROBE_FIX.format(probe="liveness_probe"),
        "#error-resourcenotready",
    ),
    "readiness": Explanation(
        "the readiness probe failed: no request is sent to the container",
        _PROBE_CAUSE + "Until it answers, the deployment is not ready and requests fail (502, 503 or 424).",
        _PROBE_FIX.format(probe="readiness_probe"),
        "#error-resourcenotready",
    ),
    "startup": Explanation(
        "the startup probe failed: the container is restarted",
        _PROBE_CAUSE + "A startup probe that keeps failing restarts the container.",
        _PROBE_FIX.format(probe="startup probe"),
        "#error-resourcenotready",
    ),
}

_PROBE_RE = re.compile(r"\b(Liveness|Readiness|Startup) probe (?:failed|errored):\s*(.*)")
_STATUS_RE = re.compile(r"statuscode: (\d{3})")
_TIMES_RE = re.compile(r"\(x(\d+) over ([^)]+)\)")
_AZURE_EVENT_RE = re.compile(
    r"Kind: Pod, Name: (\w+),(?: Type: \w+,)?(?: Time: ([^,]+),)? Message: (.*)",
)
_INSTANCE_RE = re.compile(r"(ModelDownload|UserContainerImagePull|UserContainerStart): Failed\b")
_INSTANCE = {"ModelDownload": "model-download", "UserContainerImagePull": "image-pull"}
_KINDS = {"model-download": MODEL_DOWNLOAD, "image-pull": IMAGE_PULL, "container-start": CONTAINER_START}


def read_events(notes: Notes, lines: list[str]) -> None:
    """Each line that tells an event, in any of its dresses."""
    for line in lines:
        azure = _AZURE_EVENT_RE.search(line)
        timestamp = azure.group(2) if azure else None
        if not _read_event(notes, line, timestamp) and azure is not None:
            _read_azure_event_name(notes, line, azure.group(1), timestamp)
        instance = _INSTANCE_RE.match(line.strip())
        if instance:
            kind = _INSTANCE.get(instance.group(1), "container-start")
            notes.add(kind, _KINDS[kind], line, {"step": instance.group(1)})
    read_scheduling(notes, lines)


def _read_event(notes: Notes, line: str, timestamp: str | None) -> bool:
    """An event told by its message; False when the line tells none of them."""
    if "Back-off restarting failed container" in line:
        times = _TIMES_RE.search(line)
        details = {"back-offs": f"{times.group(1)} in {times.group(2)}"} if times else {}
        notes.add("crash-loop", CRASH_LOOP, line, details, timestamp=timestamp)
        return True
    probe = _PROBE_RE.search(line)
    if probe:
        name, said = probe.group(1).lower(), probe.group(2)
        notes.add(f"probe-{name}", PROBES[name], line, {"answer": _answer(said)}, timestamp=timestamp)
        return True
    if "Failed to pull image" in line or "Back-off pulling image" in line or "Image pull failed" in line:
        notes.add("image-pull", IMAGE_PULL, line, timestamp=timestamp)
        return True
    if "OOMKilling" in line or "Memory cgroup out of memory" in line:
        notes.add("oom-killed", OOM_KILLED, line, timestamp=timestamp)
        return True
    if "Model download failed" in line or "Unable to download user model" in line:
        notes.add("model-download", MODEL_DOWNLOAD, line, timestamp=timestamp)
        return True
    return False


def _read_azure_event_name(notes: Notes, line: str, name: str, timestamp: str | None) -> None:
    """Azure ML's container events whose message says less than their name."""
    if name == "BackOff":
        notes.add("crash-loop", CRASH_LOOP, line, timestamp=timestamp)
    elif name in ("DownloadFailed", "ModelDownloadFailed"):
        notes.add("model-download", MODEL_DOWNLOAD, line, timestamp=timestamp)
    elif name in ("ImagePullFailed", "ImagePullBackOff"):
        notes.add("image-pull", IMAGE_PULL, line, timestamp=timestamp)


def _answer(said: str) -> str:
    """What the probe got, in a few words: ``HTTP 502``, ``connection refused``, ``no answer in time``."""
    status = _STATUS_RE.search(said)
    if status:
        return f"HTTP {status.group(1)}"
    if "connection refused" in said:
        return "connection refused"
    if "deadline exceeded" in said or "timeout" in said.lower():
        return "no answer in time"
    return " ".join(said.split())[:80]
