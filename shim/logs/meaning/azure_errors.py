"""Azure ML's errors as the CLI and the SDKs print them: the code, what the message adds, and the older SDK's.

Why a module of its own: the text users paste most often is not the container's output but the error their
deployment command printed, and its code names the cause. The code comes in several dresses, all read here:

- azure-core (CLI v2, SDK v2): ``ERROR: (ResourceNotReady) User container has crashed or terminated: ...``, then
  ``Code: ResourceNotReady`` and ``Message: ...``, which only repeat it;
- the CLI's progress lines: ``OutOfQuota: Container terminated due to insufficient memory. Please see ...``;
- JSON: ``"code": "KubernetesUnaccessible"``; and the guide's own link, ``https://aka.ms/oe-tsg#error-outofquota``;
- azureml-core (SDK v1): ``Service deployment polling reached non-successful terminal state, current service
  state: Unhealthy`` with its ``"message": "... Error in entry script, ModuleNotFoundError: ..."``.

The codes' meanings are in `shim.logs.meaning.azure_codes`.
"""

from __future__ import annotations

import re

from ..tally.explained import Explanation
from .azure_codes import ANCHORS, AZURE_CODES
from .exit_codes import V1_GUIDE
from .notes import Notes

_CODES = "|".join(sorted((code for code in AZURE_CODES if "/" not in code), key=len, reverse=True))
MARKERS = (  # literals: `shim.logs.meaning.platform` makes one search of them
    *(code for code in AZURE_CODES if "/" not in code),
    "Please see troubleshooting guide",  # the service's messages, which link the guide's section
    "Error in entry script",
    "Your container application crashed",
    "Service deployment polling",
    "Image creation polling",
    "Docker image build failed",
)

ENTRY_SCRIPT = Explanation(
    "the entry script failed in the container (Error in entry script)",
    "score.py failed to import or its init() raised, so the web service never became healthy (a crash loop); "
    "the error named is the one score.py raised",
    "print(service.get_logs()) shows its traceback (score-shim logs reads it); reproduce it locally with "
    "score-shim check score.py --model-dir MODEL_FOLDER; for a ModuleNotFoundError, add the package to the "
    "environment's conda file",
    f"{V1_GUIDE}#service-launch-fails",
)

WEBSERVICE_FAILED = Explanation(
    "the web service deployment failed (azureml-core)",
    "the service did not reach a healthy state; the error printed with it gives the code and the message, and "
    "the container log the details",
    "print(service.get_logs()) and read it with score-shim logs; see the other findings for the code it gave",
    f"{V1_GUIDE}#get-deployment-logs",
)

_PAREN_RE = re.compile(rf"\(({_CODES})\)\s*(.*)")
_JSON_RE = re.compile(rf'"code":\s*"({_CODES})"')
_PROGRESS_RE = re.compile(rf"(?:ERROR:\s*)?({_CODES}):\s+(.*)")
_ANCHOR_RE = re.compile(r"aka\.ms/oe-tsg#(error-[a-z]+)")
_GUIDE_TAIL_RE = re.compile(r"\.?\s*Please see (?:the )?troubleshooting guide.*$")
_ENTRY_RE = re.compile(r"Error in entry script, ([A-Za-z_][\w.]*(?:Error|Exception|Exit)\b.*?)(?:, please run|\"|$)")
_POLLING_RE = re.compile(r"(Service deployment|Image creation) polling reached non-successful terminal state, (.*)")
_STATE_RE = re.compile(r"current (?:service )?state: (\w+)")
_QUOTA_RE = (
    ("VM size", re.compile(r"quota available for (\S+) in")),
    ("usage/limit", re.compile(r"Current usage/limit: (\d+/\d+)")),
    ("cores needed", re.compile(r"Additional needed: (\d+)")),
    ("cores requested", re.compile(r"CPU quota requested is (\d+)")),
)


def read_azure_errors(notes: Notes, lines: list[str]) -> None:
    """Each line that names an Azure ML error code, or tells an azureml-core deployment failure."""
    for line in lines:
        if line.lstrip().startswith("Code: "):
            continue  # azure-core repeats the code of its first line
        found = _code_in(line)
        if found is not None:
            code, message = found
            kind = _quota_kind(message) if code == "OutOfQuota" else code
            notes.add(kind, AZURE_CODES[kind], line, _details(code, message))
        _read_v1(notes, line)


def _code_in(line: str) -> tuple[str, str] | None:
    """The code a line names, and its message (the rest of the line)."""
    match = _PAREN_RE.search(line)
    if match is None and "troubleshooting guide" in line:  # not "InternalServerError: 500 ..." from werkzeug
        match = _PROGRESS_RE.match(line.strip())
    if match:
        return match.group(1), _GUIDE_TAIL_RE.sub("", match.group(2))
    json_code = _JSON_RE.search(line)
    if json_code:
        return json_code.group(1), ""
    anchor = _ANCHOR_RE.search(line)
    if anchor and anchor.group(1) in ANCHORS:
        return ANCHORS[anchor.group(1)], _GUIDE_TAIL_RE.sub("", line.strip())
    return None


def _quota_kind(message: str) -> str:
    lowered = message.lower()
    if "memory" in lowered:
        return "OutOfQuota/memory"
    if "kubernetes unschedulable" in lowered:
        return "OutOfQuota/kubernetes"
    if "cpu quota" in lowered or "quota available for" in lowered:
        return "OutOfQuota/cpu"
    return "OutOfQuota"


def _details(code: str, message: str) -> dict[str, str]:
    """What the message says beyond its code: the quota and VM size, why the container was not ready."""
    if code == "OutOfQuota":
        return {key: match.group(1) for key, pattern in _QUOTA_RE if (match := pattern.search(message))}
    if code == "ResourceNotReady":
        reason = message.split("User container has crashed or terminated", 1)[-1].lstrip(": ")
        return {"reason": reason[:160]} if reason else {}
    if code == "BadArgument" and message:
        return {"reason": message[:160]}
    return {}


def entry_script_errors(lines: list[str]) -> list[str]:
    """The errors ``Error in entry script, <error>`` names (``ModuleNotFoundError: No module named 'x'``)."""
    found = []
    for line in lines:
        if "Error in entry script" in line:
            entry = _ENTRY_RE.search(line)
            if entry:
                found.append(entry.group(1).strip().replace("\\'", "'"))
    return found


def _read_v1(notes: Notes, line: str) -> None:
    """azureml-core's deployment failures: the polling's end, and the entry script's error it carries."""
    entry = _ENTRY_RE.search(line)
    if entry:
        notes.add("entry-script-error", ENTRY_SCRIPT, line, {"error": entry.group(1).strip()})
    elif "Your container application crashed" in line:
        notes.add("entry-script-error", ENTRY_SCRIPT, line)
    polling = _POLLING_RE.search(line)
    if polling:
        state = _STATE_RE.search(polling.group(2))
        details = {"state": state.group(1)} if state else {}
        if polling.group(1) == "Image creation":
            notes.add("ImageBuildFailure", AZURE_CODES["ImageBuildFailure"], line, details)
        else:
            notes.add("webservice-failed", WEBSERVICE_FAILED, line, details)
    elif "Docker image build failed" in line:
        notes.add("ImageBuildFailure", AZURE_CODES["ImageBuildFailure"], line)
