"""``score-shim logs``: read the container logs users paste, in any of their formats, and summarise them.

Runs in the user's terminal, never in the server. It may import the rest of the shim; nothing in
``shim.runtime``, ``shim.stream`` or ``shim.models`` imports it. ``command`` is the command's I/O (files,
stdin, ``--follow``) and ``render`` prints the summary for a person, escaped by ``terminal``; ``summary`` is
what they use (`Summary`, `read_file`). ``dispatch`` hands each line to ``fast_path`` (the shim's commonest
JSON lines, counted by slicing) or to the ``readers``, one module per format (the shim's JSON, the server's
text, gunicorn's own lines and access log, old servers' text and JSON lines, runit and supervisord, kubectl,
docker and BuildKit prefixes, pasted traceback fragments, pastes that lost their line breaks), which turn lines
into a ``record``; ``text`` joins a text record's continuation lines (tracebacks) to it. ``meaning`` says
what a record means (the server's, gunicorn's and the shim's messages, the server's known noise, tracebacks in
any pasted form, what the platform says around the container), with ``tracebacks`` to find the user's exception and
``frames`` to tell the user's frames and the phase, and counts it in the ``tally``, whose parts stay within
``bounds``; ``story`` keeps the lines of ``--request-id`` and ``story_text`` shows them to a person. Imports
only go down this list: ``command``, ``terminal``, ``story_text``, ``render``, ``summary``, ``dispatch``,
``fast_path``, ``meaning``, ``story``, ``text``, ``readers``, ``record``, ``tally``, ``tracebacks``, ``frames``,
``bounds``.
"""
