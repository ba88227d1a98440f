"""What runs inside the server's worker, once per process and once per request.

The entry (``entry``, ``loader``) imports the user's score.py when the server imports
``score_wrappers/entry.py``; ``setup`` starts the shim in each process; ``wrap`` puts ``init()`` and
``run()`` inside the shim's events (``events``, ``access``) and its opt-in behaviours (``echo``, ``hold``,
``payload``, ``watchdog``, ``memory``, ``debugger`` with ``debug_lock``, one process per debug port). This
code is on someone else's request path: it stays light to import (the debugger and debugpy only when a port
is asked for, the models when ``init()`` runs; ``scripts/profile_import.py``), never raises into the user's
code, and costs microseconds per request (``python -m benchmarks``, ``scripts/profile_request.py``). It may
import ``shim.settings``, ``shim.stream`` and ``shim.models``, never ``shim.cli`` or ``shim.logs``
(``tests/test_layout.py`` reads the imports).
"""
