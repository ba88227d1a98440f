"""The one log stream: every line of the worker, the shim's, the server's, gunicorn's and the user's, as
one JSON object (or one console line) on stdout.

``configure`` builds the structlog pipeline and bridges the stdlib's loggers into it; ``processors`` are
plain functions with one job each (ids, time, exceptions, bounds); ``redaction`` masks secrets;
``output`` writes whole lines; ``context`` reads the current request's ids from the server's Flask request;
``fast_json`` renders a line through orjson where it is installed, byte for byte as the standard library would.
The stream runs in the worker too, so it obeys the same rules as ``shim.runtime``, and it sits below it:
it may import ``shim.settings`` and nothing else of the shim (the runtime, the models, the CLI and the
``logs`` reader all log through it).
"""
