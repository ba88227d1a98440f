"""Every target the figures are held to, in one place (issue 17 and earlier issues set them).

A figure without a target here is reported, not judged. Imports nothing, so that the tests and the
rendering can use it without loading the shim or the server.
"""

from __future__ import annotations

#: µs a served request may pay for the shim (median of per-round differences, in process).
SERVED_ADDED_US = 5.0
#: Requests/s of the wrapped server against the bare one, folded lines included (net).
THROUGHPUT_NET_RATIO = 0.97
#: ``import shim`` and the drop-in entry, in a fresh interpreter.
IMPORT_MS = 30.0
#: ``score-shim logs`` on the shim's JSON lines, in process (issue 15).
LOGS_JSON_LINES_PER_S = 400_000
#: The model probe before ``init()`` on a 100,000-file folder, worst round.
PROBE_MS = 100.0
#: A pure-Python run() with the debug port configured and no client, against no port.
DEBUG_NO_CLIENT_RATIO = 1.05
