"""Bounds on what ``score-shim logs`` keeps, whatever the size of the log: a 1 GB log reads in constant memory."""

MAX_LINE = 1 << 20  # characters of one line; the rest of a longer line is skipped
MAX_RECORD_LINES = 400  # continuation lines kept per text record (head and tail)
MAX_WORKERS = 2000
MAX_GROUPS = 200
MAX_ROUTES = 50
MAX_SAMPLES = 10
MAX_STORY_LINES = 10_000
MAX_RECENT_IDS = 4096
MAX_STREAMS = 1000
MAX_LATENCY_KEYS = 4096
READ_BLOCK = 1 << 18  # characters read at a time
