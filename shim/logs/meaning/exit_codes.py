"""What a scoring container's exit code means, wherever the log tells it.

``kubectl describe pod`` (``Exit Code: 137``), a CrashLoopBackOff event, the older images' runit lines
(``gunicorn/finish 3 0``, ``Exit code 3 is not normal. Killing image.``) and gunicorn's ``exited with code``
all say the same few codes; their meaning is kept here once. Sources: the inference server exits with 3 when
the entry script fails to import or ``init()`` fails (``azureml_inference_server_http`` ``server/user_script``,
and DESIGN.md's measured facts); 128 + N is "killed by signal N" (POSIX shells and Kubernetes alike).
"""

from __future__ import annotations

from ..tally.explained import Explanation

EXIT_CODES: dict[int, Explanation] = {
    1: Explanation(
        "the container exited with code 1",
        "a process in the container failed at start (often the server's command line or its configuration)",
        "run the same image and code locally (score-shim serve, or score-shim check --deployment) and read the "
        "first error it prints",
        "#error-crashloopbackoff",
    ),
    3: Explanation(
        "the server exited with code 3: init() failed, or score.py failed to import",
        "the inference server stops with exit code 3 when the entry script cannot be imported or its init() "
        "raises; the container then restarts and fails the same way (a crash loop)",
        "find the traceback before the exit in the container log (score-shim logs reads it), or reproduce it in "
        "seconds with: score-shim check score.py --model-dir MODEL_FOLDER",
        "#error-crashloopbackoff",
    ),
    137: Explanation(
        "the container was killed (exit code 137: SIGKILL, usually out of memory)",
        "exit code 137 is 128 + 9: the process was killed with SIGKILL, which on Azure ML is almost always the "
        "kernel's out-of-memory killer (the container went over its memory limit)",
        "use an instance type with more memory, fewer workers (WORKER_COUNT), or a smaller model or batch; "
        "score-shim check prints the peak memory of init() and run()",
        "#error-oomkilled",
    ),
    139: Explanation(
        "the container crashed in native code (exit code 139: segmentation fault)",
        "exit code 139 is 128 + 11: a segmentation fault, in a compiled library (numpy, torch, onnxruntime...), "
        "most often from binary packages built against different versions",
        "pin the packages that the model was built with in the environment's conda file; reproduce it locally "
        "with score-shim check to see which call crashes",
        "#error-crashloopbackoff",
    ),
    143: Explanation(
        "the container was stopped (exit code 143: SIGTERM)",
        "exit code 143 is 128 + 15: the container was asked to stop, for example because its liveness probe "
        "failed or the deployment was updated",
        "if it comes with probe failures, see those: init() may take longer than the probe allows",
        "#error-crashloopbackoff",
    ),
}


def explain_exit_code(code: int) -> Explanation | None:
    """The meaning of a container's or the server's exit code; None for 0 and codes with nothing to say."""
    return EXIT_CODES.get(code)
