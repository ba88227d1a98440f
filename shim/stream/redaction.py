"""Keep secrets out of every line and every echoed error, by masking values before they are rendered.

What is masked, wherever it appears (an exception message, a traceback, a user's log line or print, a
header or payload the user logged, any value of the event, a dict key):

- the values of environment variables whose names look secret (`looks_secret`: a word of the name is
  ``KEY``, ``SECRET``, ``TOKEN``, ``PASSWORD``, ``PASSWD``, ``PWD``, ``PASS``, ``SAS``, ``CREDENTIAL``, ...,
  or ends in ``KEY``/``SECRET``/``TOKEN``/``PASSWORD``: ``DB_PASS`` is secret, ``PASSTHROUGH``, ``BYPASS``,
  ``MAX_TOKENS`` and ``TOKENIZERS_PARALLELISM`` are not), read once at start-up, in every form they can be
  written in: raw, ``repr()`` (both quote styles, ``\\``, ``\\n``, ``\\x..`` escapes, and the ``repr()`` of
  the UTF-8 bytes), JSON-escaped (with and without ``ensure_ascii``), URL-encoded (``quote`` and
  ``quote_plus``, either hex case) and base64 (standard and URL-safe, with or without padding). They
  become ``[REDACTED:NAME]``;
- the values of keys that name a secret, and credential shapes (see `shim.stream.credentials`). They
  become ``[REDACTED]``.

Policies:

- Values are masked BEFORE they are bounded and before they are rendered: a cut can never split a
  secret, and the renderer's escaping (JSON, console) is never touched, so no input can break a line.
- Short values (fewer than `MIN_SECRET_LENGTH` characters) of secret-named variables are not masked in
  free text: ``1`` or ``true`` would mask half the log and protect nothing. They are still masked as
  whole values under secret-named keys, like any value there, and start-up warns once
  (``shim.redaction.short_secret``) with the names of those variables, never their values.
- A value made of digits only (``PIN_SECRET=83749201``) is masked only as a whole token: never inside a
  longer number or word (``1.83749201``, ``837492010``), and never in a number, which is not text at all
  (``"input_bytes": 83749201`` stays).

The cost: a line without any secret pays one walk over its values and a handful of substring checks per
string (strings up to 32 characters are remembered as clean: event names, keys, methods, paths); only a
string with a hint of a secret runs the patterns.
"""

from __future__ import annotations

import os
import re

from .credentials import HINTS, MASK, mask_shapes, secret_key

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Mapping
    from typing import Any

__all__ = ["MASK", "MIN_SECRET_LENGTH", "Masked", "Redactor", "looks_secret", "mask", "mask_event", "redact", "reset"]


class Masked(str):
    """Text the redactor has masked already: the event walk does not mask it a second time."""

    __slots__ = ()


#: Shorter values of secret-named variables are not masked in free text (see the module's policies).
MIN_SECRET_LENGTH = 6

#: Words of environment variable names that mark their values as secret.
_NAME_WORDS = frozenset(
    {
        "KEY", "KEYS", "SECRET", "SECRETS", "TOKEN", "PASSWORD", "PASSWD", "PWD", "PASS", "PASSPHRASE",
        "SAS", "CREDENTIAL", "CREDENTIALS", "SIGNATURE", "PRIVATE", "CONNSTR", "APIKEY",
    }
)  # fmt: skip
#: A word that ends so is secret too (``APIKEY``, ``ACCOUNTKEY``, ``AUTHTOKEN``, ``DBPASSWORD``).
_NAME_ENDINGS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD")
_NAME_PHRASES = ("CONNECTION_STRING", "CONNECTIONSTRING")

#: Names that match but are known not to be secret.
_NOT_SECRET = frozenset({"AML_APP_INSIGHTS_ENABLED", "AUTH_TYPE", "KEYTIMEOUT", "PWD", "OLDPWD"})

_NAME_SPLIT = re.compile(r"[^A-Z0-9]+")


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name marks its value as secret."""
    upper = name.upper()
    if upper in _NOT_SECRET:
        return False
    if any(phrase in upper for phrase in _NAME_PHRASES):
        return True
    return any(word in _NAME_WORDS or word.endswith(_NAME_ENDINGS) for word in _NAME_SPLIT.split(upper))


# -- the forms a secret value can be written in ------------------------------------------------------


def _repr_forms(value: str) -> set[str]:
    # repr() quotes with ' and escapes ' when the text holds both quotes; else it uses the other quote and
    # escapes neither. Appending both quotes forces the first style: `\'"` is then the last 3 characters.
    single = repr(value + "'\"")[1:-4]
    forms = {single, single.replace("\\'", "'")}
    try:
        raw = value.encode("utf-8", "surrogateescape")
        single_bytes = repr(raw + b"'\"")[2:-4]
        forms |= {single_bytes, single_bytes.replace("\\'", "'")}
    except Exception:
        pass
    return forms


def _url_forms(value: str) -> set[str]:
    from urllib.parse import quote, quote_plus  # here: only for a secret's forms, at start-up (import time)

    try:
        forms = {quote(value, safe=""), quote(value), quote_plus(value)}
    except Exception:
        return set()
    return forms | {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), form) for form in forms}


def _base64_forms(value: str) -> set[str]:
    import base64  # here: only for a secret's forms, at start-up (import time)

    try:
        raw = value.encode("utf-8", "surrogateescape")
    except Exception:
        return set()
    encoded = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return encoded | {form.rstrip("=") for form in encoded}


def forms_of(value: str) -> set[str]:
    """Every way ``value`` can be written in a log: raw, repr, JSON, URL-encoded, base64."""
    import json  # here, not at the top: json is not imported by a worker's start (issue 17, import time)

    forms = {value} | _repr_forms(value)
    for form in list(forms):
        forms.add(json.dumps(form)[1:-1])
        forms.add(json.dumps(form, ensure_ascii=False)[1:-1])
    return forms | _url_forms(value) | _base64_forms(value)


def _alternative(form: str) -> str:
    # A digits-only form is a secret only as a whole token, never inside a number or a word.
    if form.isascii() and form.isdigit():
        return rf"(?<![\w.]){form}(?![\w]|\.\d)"
    return re.escape(form)


class Redactor:
    """Masks secret values and credential shapes; built once from the environment."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        labels: dict[str, str] = {}
        short: list[str] = []
        for name, value in sorted(env.items()):
            if not value or not looks_secret(name):
                continue
            if len(value) < MIN_SECRET_LENGTH:
                short.append(name)
                continue
            for form in forms_of(value):
                labels.setdefault(form, f"[REDACTED:{name}]")
        self._labels = labels
        longest_first = sorted(labels, key=len, reverse=True)
        self._values = re.compile("|".join(_alternative(form) for form in longest_first)) if labels else None
        # The pre-check needs only the forms that contain no other: a text holding a padded base64 form
        # holds the unpadded one too.
        self._forms = tuple(form for form in longest_first if not any(o in form for o in labels if o != form))
        #: Secret-named variables whose values are too short to mask in free text (never their values).
        self.short_secret_names = short
        self._clean: set[str] = set()

    @property
    def secret_names(self) -> list[str]:
        return sorted({label[len("[REDACTED:") : -1] for label in self._labels.values()})

    # -- text ------------------------------------------------------------------------------------------

    def __call__(self, text: str) -> str:
        return self.text(text)

    def might_hold_secret(self, text: str) -> bool:
        """The cheap pre-check: False means no pattern and no secret can match ``text``."""
        for form in self._forms:
            if form in text:
                return True
        low = text.lower()
        for hint in HINTS:  # noqa: SIM110 (a plain loop: any() over a generator costs twice as much here)
            if hint in low:
                return True
        return False

    def text(self, text: str) -> str:
        """``text`` with every secret masked."""
        if not text or not self.might_hold_secret(text):
            return text
        if self._values is not None and any(form in text for form in self._forms):
            text = self._values.sub(self._label, text)
        return mask_shapes(text)

    def _label(self, match: re.Match[str]) -> str:
        return self._labels.get(match.group(0)) or MASK

    # -- values ------------------------------------------------------------------------------------------

    def value(self, value: Any) -> Any:
        """``value`` with every string in it masked (dicts, lists and tuples copied where something changed)."""
        return _Walk(self).value(value, 0)

    def event(self, event_dict: dict[str, Any]) -> dict[str, Any]:
        """Mask an event in place (its own dict; the containers it holds are copied where they change)."""
        if self._clean_event(event_dict):
            return event_dict
        walk = _Walk(self)
        walk.path.add(id(event_dict))
        for key in list(event_dict):
            if key in _OWN_KEYS:
                continue
            value = event_dict[key]
            masked = walk.item(key, value, 1)
            new_key = self.text(key) if type(key) is str else key
            if new_key is not key:
                del event_dict[key]
                event_dict[new_key] = masked
            elif masked is not value:
                event_dict[key] = masked
        return event_dict

    # -- the fast path: is there anything to mask at all? ----------------------------------------------

    def _clean_text(self, text: str) -> bool:
        if text in self._clean:
            return True
        if self.might_hold_secret(text):
            return False
        if len(text) <= _CLEAN_CACHE_CHARS:  # event names, keys, methods, paths: the same on every line
            if len(self._clean) >= _CLEAN_CACHE_SIZE:
                self._clean.clear()
            self._clean.add(text)
        return True

    def _clean_event(self, event_dict: dict[str, Any]) -> bool:
        return self._clean_dict(event_dict, 0)

    def _clean_dict(self, value: dict[Any, Any], depth: int) -> bool:
        # Inlined checks (no call per clean key or value): this runs for every line.
        clean = self._clean
        for key, item in value.items():
            if depth == 0 and key in _OWN_KEYS:
                continue
            if key not in clean and (type(key) is not str or not self._clean_text(key)) and type(key) not in _SCALARS:
                return False
            if type(item) is str:
                if item not in clean and not self._clean_text(item):
                    return False
            elif type(item) not in _SCALARS and not self._clean_value(item, depth + 1):
                return False
        return True

    def _clean_value(self, value: Any, depth: int) -> bool:
        """True when nothing in ``value`` needs masking; False sends the event down the slow path."""
        kind = type(value)
        if kind is str:
            return self._clean_text(value)
        if kind in _SCALARS:
            return True
        if depth > MAX_DEPTH:
            return False
        if kind is dict:
            return self._clean_dict(value, depth)
        if kind is list or kind is tuple:
            return all(self._clean_value(item, depth + 1) for item in value)
        # Subclasses of str, dict, list, tuple: the walk handles them; other objects: their repr is masked
        # when they are rendered.
        return not isinstance(value, (str, dict, list, tuple))


#: Types whose values never need masking (a Masked text is masked already).
_SCALARS = frozenset({int, float, bool, type(None), Masked})
#: Keys of an event that the pipeline itself set and that never hold a secret.
_OWN_KEYS = frozenset({"timestamp", "level", "pid", "host"})
#: How deep a value is walked (deeper values are not logged).
MAX_DEPTH = 32
#: Clean strings up to this length are remembered (per redactor, at most _CLEAN_CACHE_SIZE of them).
_CLEAN_CACHE_CHARS = 32
_CLEAN_CACHE_SIZE = 4096


class _Walk:
    """One walk over a value: copy-on-write, cycles and depth bounded."""

    __slots__ = ("path", "redactor")

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.path: set[int] = set()

    def value(self, value: Any, depth: int) -> Any:
        if type(value) is str:
            return self.redactor.text(value)
        if isinstance(value, Masked) or not isinstance(value, (str, dict, list, tuple)):
            return value  # numbers, None, objects: the JSON encoder's repr of an object is masked there
        if isinstance(value, str):
            return self.redactor.text(str(value))
        if depth > MAX_DEPTH:
            return "[too deep to log]"
        if id(value) in self.path:  # a cycle: what the JSON encoder cannot write, written as repr writes it
            try:
                return self.redactor.text(repr(value))
            except Exception:
                return "[circular reference]"
        self.path.add(id(value))
        try:
            return self._dict(value, depth) if isinstance(value, dict) else self._sequence(value, depth)
        finally:
            self.path.discard(id(value))

    def item(self, key: Any, value: Any, depth: int) -> Any:
        """A dict's value: masked whole when its key names a secret."""
        if type(key) is str and secret_key(key) and value is not None and not isinstance(value, bool):
            return MASK
        return self.value(value, depth)

    def _dict(self, value: dict[Any, Any], depth: int) -> Any:
        changed = False
        items = []
        for key, item in value.items():
            masked = self.item(key, item, depth + 1)
            new_key = self.value(key, depth + 1) if isinstance(key, str) else key
            changed = changed or masked is not item or new_key is not key
            items.append((new_key, masked))
        return dict(items) if changed else value

    def _sequence(self, value: list[Any] | tuple[Any, ...], depth: int) -> Any:
        masked = [self.value(item, depth + 1) for item in value]
        if all(new is old for new, old in zip(masked, value, strict=True)):
            return value
        return tuple(masked) if isinstance(value, tuple) else masked


# -- the process's redactor ----------------------------------------------------------------------------

_redactor: Redactor | None = None


def redactor() -> Redactor:
    """The process's redactor, built from the environment on first use."""
    global _redactor
    if _redactor is None:
        _redactor = Redactor()
    return _redactor


def reset(environ: Mapping[str, str] | None = None) -> Redactor:
    """Rebuild from ``environ`` (start-up, and tests that plant secrets)."""
    global _redactor
    _redactor = Redactor(environ)
    return _redactor


def redact(text: str) -> str:
    """``text`` with every secret masked."""
    return redactor().text(text)


def mask(value: Any) -> Any:
    """``value`` (a dict, list, tuple or string, nested) with every string masked; the original is not changed."""
    return redactor().value(value)


def mask_event(_: object, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """The structlog processor before the renderer: every value of the event masked.

    Never raises. Should masking itself fail, the line keeps its head and says so, rather than risk
    writing a secret.
    """
    try:
        return redactor().event(event_dict)
    except Exception as error:
        return {
            **{key: event_dict[key] for key in ("timestamp", "level") if key in event_dict},
            "event": "shim.redaction.failed",
            "logger": "shim",
            "error_type": type(error).__name__,
            "diagnosis": "the shim could not mask this line's values, so they were not written; please report this.",
        }
