"""Keep secrets out of every line and every echoed error.

Two kinds of secret are recognised, wherever they appear (an exception message, a traceback, a user's
log line, a header the user logged):

- the values of environment variables whose names look secret (``*KEY*``, ``*SECRET*``, ``*TOKEN*``,
  ``*PASSWORD*``, ``*CONNECTION_STRING*``, ``*SAS*``, ``*CREDENTIAL*``, ...), read once at start-up;
- credential-shaped strings: ``Authorization: Bearer ...`` / ``Basic ...``, JSON Web Tokens, the key parts
  of Azure connection strings (``AccountKey=``, ``SharedAccessKey=``, ``Password=``, ...) and SAS query
  parameters (``sig=``).

Redaction runs on the rendered line, once: one regular-expression search over a short line is cheaper
than walking every value of the event, and it also catches what a ``repr()`` or the JSON encoder
produced. Secrets are replaced by ``[REDACTED]`` (``[REDACTED:NAME]`` for an environment variable), so
a reader still sees that something was there.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping

#: Parts of environment variable names that mark their values as secret.
SECRET_NAME_PARTS = (
    "KEY",
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "PWD",
    "CONNECTION_STRING",
    "CONNSTR",
    "SAS",
    "CREDENTIAL",
    "SIGNATURE",
    "PRIVATE",
)

#: Names that contain a marker but are known not to be secret (their values are often short words
#: that would otherwise be redacted all over the log).
_NOT_SECRET = frozenset({"AML_APP_INSIGHTS_ENABLED", "AUTH_TYPE", "KEYTIMEOUT", "PWD", "OLDPWD"})

#: Shorter values are not redacted: "1" or "true" would mask half the log and protect nothing.
MIN_SECRET_LENGTH = 6

_NAME = re.compile("|".join(SECRET_NAME_PARTS))

# Credential shapes. Each pattern's first group (when there is one) is kept, the rest is masked.
_SHAPES = [
    # HTTP auth schemes, as in a logged header or a repr() of a headers dict.
    r"(\b(?:bearer|basic|digest|negotiate)\s+)[A-Za-z0-9\-._~+/]{8,}=*",
    # JSON Web Tokens (three base64url parts, the first two starting with '{"' encoded).
    r"()\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}",
    # Keys and passwords inside connection strings (Azure Storage, Service Bus, Event Hubs, SQL, ...).
    r"(\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|"
    r"ClientSecret|AccessKey|ApiKey|Key)\s*=\s*)[^;\s\"',&]{4,}",
    # SAS tokens: the signature of a shared access signature query string.
    r"([?&](?:sig|signature)=)[^&\s\"']{8,}",
    # Header-like "x-api-key: value" / "api-key: value" / "Ocp-Apim-Subscription-Key: value".
    r"(\b(?:x-api-key|api-key|ocp-apim-subscription-key|x-functions-key)[\"']?\s*[:=]\s*[\"']?)"
    r"[A-Za-z0-9\-._~+/]{8,}",
]
# Case-insensitive per alternative ("(?i:...)"): the secret values joined to it stay case-sensitive.
_SHAPE = re.compile("|".join(f"(?i:{shape})" for shape in _SHAPES))


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name marks its value as secret."""
    upper = name.upper()
    return upper not in _NOT_SECRET and bool(_NAME.search(upper))


class Redactor:
    """Masks secret values and credential shapes in text; built once from the environment."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._values: dict[str, str] = {}
        for name, value in env.items():
            if len(value) >= MIN_SECRET_LENGTH and looks_secret(name):
                # The JSON-escaped form too: that is how the value appears inside a rendered line.
                for form in {value, json.dumps(value)[1:-1]}:
                    self._values.setdefault(form, f"[REDACTED:{name}]")
        alternatives = [re.escape(value) for value in sorted(self._values, key=len, reverse=True)]
        self._pattern = re.compile("|".join([*alternatives, _SHAPE.pattern]) if alternatives else _SHAPE.pattern)

    @property
    def secret_names(self) -> list[str]:
        return sorted({label[len("[REDACTED:") : -1] for label in self._values.values()})

    def __call__(self, text: str) -> str:
        # Most lines hold no secret: cheap substring checks first (about 2 us on a 250-character line,
        # a tenth of running the full pattern).
        if not self._might_hold_secret(text):
            return text
        return self._pattern.sub(self._replace, text)

    def _might_hold_secret(self, text: str) -> bool:
        for value in self._values:
            if value in text:
                return True
        low = text.lower()
        return (
            "earer" in low
            or "basic" in low
            or "digest" in low
            or "negotiate" in low
            or "eyj" in low
            or "key" in low
            or "pass" in low
            or "pwd" in low
            or "secret" in low
            or "sig" in low
            or "sharedaccess" in low
        )

    def _replace(self, match: re.Match[str]) -> str:
        label = self._values.get(match.group(0))
        if label is not None:
            return label
        kept = next((group for group in match.groups() if group is not None), "")
        return f"{kept}[REDACTED]"


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
    return redactor()(text)


def redact_rendered(_: object, __: str, rendered: object) -> object:
    """The last structlog processor: mask secrets in the rendered line."""
    if isinstance(rendered, str):
        return redactor()(rendered)
    return rendered
