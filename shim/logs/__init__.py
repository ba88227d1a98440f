"""``score-shim logs``: read the container logs users paste, in any of their formats, and summarise them.

Runs in the user's terminal, never in the server. ``command`` is the command's I/O (files, stdin,
``--follow``); ``summary`` reads the lines and keeps bounded counters and samples; ``render`` prints the
summary for a person. It may import the rest of the shim; nothing in ``shim.runtime``, ``shim.stream`` or
``shim.models`` imports it.
"""
