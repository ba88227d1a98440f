"""What a scoring container's exit code (or the signal that killed a process) means, wherever the log tells it.

``kubectl describe pod`` (``Exit Code: 137``), a CrashLoopBackOff event, the older images' runit lines
(``gunicorn/finish 3 0``, ``Exit code 3 is not normal. Killing image.``), gunicorn's ``exited with code`` and
Python's ``died with <Signals.SIGKILL: 9>`` all say the same few codes; their meaning is kept here once. Sources:
the inference server exits with 3 when the entry script fails to import or ``init()`` fails
(``azureml_inference_server_http`` ``server/user_script``, and DESIGN.md's measured facts); 128 + N is "killed by
signal N" (POSIX shells and Kubernetes alike). The guide's sections are those of Azure ML's troubleshooting guide
for online endpoints (`shim.logs.tally.explained.GUIDE`); SIGKILL's is in the guide for the older web services.
"""

from __future__ import annotations

import signal

from ..tally.explained import Explanation

#: The older (v1) guide, for ACI and AKS web services: the section that names ``died with <Signals.SIGKILL: 9>``.
V1_GUIDE = "https://learn.microsoft.com/azure/machine-learning/v1/how-to-troubleshoot-deployment"

_MEMORY_FIX = (
    "give the deployment more memory: an instance type (SKU) with more memory, or a higher memory limit on "
    "Kubernetes; or use less of it: fewer workers (WORKER_COUNT), a smaller model or batch. "
    "score-shim check prints the peak memory of init() and run()"
)

OOM_KILLED = Explanation(
    "the container was killed for memory (OOMKilled)",
    "the scoring container used more memory than its limit (or than the machine has), and the kernel's "
    "out-of-memory killer stopped it; Kubernetes then restarts it, and it fails the same way",
    _MEMORY_FIX,
    "#error-podoutofmemory",
)

SIGKILL = Explanation(
    "a process was killed with SIGKILL (signal 9), usually for memory",
    "a process (a worker, or a build step) was killed with SIGKILL: on Azure ML almost always the kernel's "
    "out-of-memory killer, because the container or the VM ran out of memory",
    "change the SKU to one with more memory (or raise the memory limit), or load less: fewer workers "
    "(WORKER_COUNT), a smaller model; score-shim check prints the peak memory of init() and run()",
    f"{V1_GUIDE}#other-error-messages",
)

EXIT_CODES: dict[int, Explanation] = {
    1: Explanation(
        "the container exited with code 1",
        "a process in the container failed at start (often the server's command line, its configuration, or a "
        "package missing from the environment)",
        "run the same image and code locally (score-shim serve, or score-shim check --deployment) and read the "
        "first error it prints",
        "#error-resourcenotready",
    ),
    3: Explanation(
        "the server exited with code 3: init() failed, or score.py failed to import",
        "the inference server stops with exit code 3 when the entry script cannot be imported (a package missing "
        "from the environment, a syntax error) or its init() raises; the container then restarts and fails the "
        "same way (a crash loop)",
        "find the traceback before the exit in the container log (score-shim logs reads it), or reproduce it in "
        "seconds with: score-shim check score.py --model-dir MODEL_FOLDER",
        "#error-resourcenotready",
    ),
    137: Explanation(
        "the container was killed (exit code 137: SIGKILL, usually out of memory)",
        "exit code 137 is 128 + 9: the process was killed with SIGKILL, which on Azure ML is almost always the "
        "kernel's out-of-memory killer (the container went over its memory limit); a liveness probe that keeps "
        "failing also ends in a kill",
        _MEMORY_FIX,
        "#error-podoutofmemory",
    ),
    139: Explanation(
        "the container crashed in native code (exit code 139: segmentation fault)",
        "exit code 139 is 128 + 11: a segmentation fault, in a compiled library (numpy, torch, onnxruntime...), "
        "most often from binary packages built against different versions",
        "pin the packages that the model was built with in the environment's conda file; reproduce it locally "
        "with score-shim check to see which call crashes",
        "#error-resourcenotready",
    ),
    143: Explanation(
        "the container was stopped (exit code 143: SIGTERM)",
        "exit code 143 is 128 + 15: the container was asked to stop, for example because its liveness probe "
        "failed or the deployment was updated",
        "if it comes with probe failures, see those: init() may take longer than the probe allows",
        "#error-resourcenotready",
    ),
}


def explain_exit_code(code: int) -> Explanation | None:
    """The meaning of a container's or the server's exit code; None for 0 and codes with nothing to say."""
    return EXIT_CODES.get(code)


def exit_code_explanation(code: int) -> Explanation:
    """`explain_exit_code`, or for another code what can be said of any: its signal when it is 128 + N."""
    known = explain_exit_code(code)
    if known is not None:
        return known
    name = _signal_name(code - 128) if code > 128 else None
    cause = (
        f"exit code {code} is 128 + {code - 128}: the process was killed by {name}"
        if name
        else "the process in the container stopped with an error"
    )
    return Explanation(
        f"the container exited with code {code}",
        cause,
        "read the container's log up to the exit (az ml online-deployment get-logs, kubectl logs --previous), or "
        "run the same image and code locally with score-shim serve",
        "#error-resourcenotready",
    )


def explain_signal(number: int) -> Explanation:
    """What a process killed by signal ``number`` means (``died with <Signals.SIGKILL: 9>``)."""
    return SIGKILL if number == 9 else exit_code_explanation(128 + number)


def _signal_name(number: int) -> str | None:
    try:
        return signal.Signals(number).name
    except ValueError:
        return None
