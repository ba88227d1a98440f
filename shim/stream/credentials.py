"""Credentials in text and keys that name a secret: what is masked whatever the environment holds.

- Keys that name a secret (`secret_key`): their whole value is masked, in a dict of the event and in text
  (``"api-key": "..."``, ``'password': '...'``, ``Password=...;``, ``?sig=...``, ``('Authorization', '...')``,
  ``Authorization: SharedKey acct:sig`` with its scheme kept, ``Cookie: ...`` to the end of the line).
- Shapes without a key: ``Bearer``/``Basic``/``Digest``/``Negotiate``/``NTLM``/``SharedKey`` credentials in
  free text, JSON Web Tokens, the password of a URL (``scheme://user:password@host``), and PEM private key
  blocks, whole (raw, escaped or URL-encoded; to the end of the text when the END line was cut away).

Each pattern runs only when the lower-cased text holds one of its hints; the name=value pairs are looked
for only around the words that hold a name hint, found with ``str.find`` (a regular expression over a long
text costs a hundred times more).
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` is not imported by a worker's start (issue 17, import time)
    from collections.abc import Callable, Iterator

MASK = "[REDACTED]"


class _Pattern:
    """A regular expression compiled on its first use. Most text holds no hint of a credential and never meets
    these; compiling them all when the module is imported cost every worker's start about 2.5 ms (issue 17)."""

    __slots__ = ("_compiled", "_flags", "_source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def _get(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._source, self._flags)
        return compiled

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self._get().match(text, pos)

    def sub(self, replacement: str | Callable[[re.Match[str]], str], text: str) -> str:
        return self._get().sub(replacement, text)

    def split(self, text: str) -> list[str]:
        return self._get().split(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self._get().finditer(text)


#: The last word of a key that names a secret (``db_password``, ``access_token``, ``set-cookie``).
_KEY_LAST_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "apikey", "auth",
        "authorization", "cookie", "cookies", "credential", "credentials", "sig",
    }
)  # fmt: skip
#: The last two words of a key that names a secret (``x-api-key``, ``AccountKey``, ``SharedAccessSignature``).
_KEY_LAST_PAIRS = frozenset(
    {
        ("api", "key"), ("access", "key"), ("account", "key"), ("subscription", "key"), ("private", "key"),
        ("secret", "key"), ("functions", "key"), ("function", "key"), ("master", "key"), ("primary", "key"),
        ("secondary", "key"), ("signing", "key"), ("encryption", "key"), ("shared", "key"),
        ("access", "signature"),
    }
)  # fmt: skip
_CAMEL_1 = _Pattern(r"([a-z0-9])([A-Z])")
_CAMEL_2 = _Pattern(r"([A-Z]+)([A-Z][a-z])")
_KEY_SPLIT = _Pattern(r"[^a-z0-9]+")
_key_cache: dict[str, bool] = {}
_KEY_CACHE_SIZE = 4096


def _key_words(name: str) -> list[str]:
    spaced = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name))
    return [word for word in _KEY_SPLIT.split(spaced.lower()) if word]


def secret_key(name: str) -> bool:
    """Whether a key (of a dict, a header, a ``name=value`` pair) names a secret, so its value is masked whole.

    By its last word (or last two), camelCase and ``-``/``_``/``.`` separators alike: ``password``,
    ``DbPassword``, ``access_token``, ``x-api-key``, ``AccountKey`` do; ``token_type``, ``max_tokens``,
    ``secret_name``, ``SharedAccessKeyName``, ``bypass`` do not.
    """
    known = _key_cache.get(name)
    if known is not None:
        return known
    words = _key_words(name)
    found = bool(words) and (words[-1] in _KEY_LAST_WORDS or tuple(words[-2:]) in _KEY_LAST_PAIRS)
    if len(_key_cache) >= _KEY_CACHE_SIZE:
        _key_cache.clear()
    _key_cache[name] = found
    return found


def _is_authorization(name: str) -> bool:
    return name.lower().replace("_", "-").endswith("authorization")


def _is_cookie(name: str) -> bool:
    return name.lower().rstrip("s").endswith("cookie")


#: Substrings (of the lower-cased text) without which nothing here can match: the redactor's pre-check.
HINTS = (
    "pass", "pwd", "secret", "token", "key", "auth", "cookie", "credential", "sig",
    "bearer", "basic", "digest", "negotiate", "ntlm", "eyj", "://",
)  # fmt: skip

#: Every key that names a secret (see `secret_key`) holds one of these: only the words around them are read.
_NAME_HINTS = ("pass", "pwd", "secret", "token", "key", "auth", "cookie", "credential", "sig")
_NAME_HINT = _Pattern("|".join(_NAME_HINTS), re.IGNORECASE)
#: At the start of a word: the name, a closing quote (maybe escaped), and a separator.
_PAIR_AT = _Pattern(r"""([A-Za-z_][\w.\-]{0,79})(\\{0,3}["'])?[ \t]*([:=]|,)[ \t]*""")
#: Values of names that mark a secret: quoted (to the closing quote), an earlier mask, a cookie header (to the
#: end of the line), an authorization header (an optional scheme, kept, and one credential), else one token.
_QUOTE_OPEN = _Pattern(r"""\\{0,3}["']""")
_LABEL = _Pattern(r"\[REDACTED(?::[^\]\r\n]{0,200})?\]")
_PLAIN_VALUE = _Pattern(r"""[^\s"',;&}\]\\]+""")
_AUTH_VALUE = _Pattern(r"""([A-Za-z][\w\-]*[ \t]+)?([^\s"',;\\]+)""")
_COOKIE_VALUE = _Pattern(r"""[^\r\n"'\\]+""")
_SCHEME_INSIDE = _Pattern(r"([A-Za-z][\w\-]*[ \t]+)\S")

#: Credentials after an HTTP auth scheme in free text (the scheme is kept). Basic/Digest/Negotiate/NTLM are
#: also English words: their credential must hold a digit or one of ``+/=``.
_SCHEME = _Pattern(
    r"(?i:\b((?:bearer|sharedkey(?:lite)?)[ \t]+))[A-Za-z0-9\-._~+/:]{8,}=*"
    r"|(?i:\b((?:basic|digest|negotiate|ntlm)[ \t]+))(?=[A-Za-z0-9\-._~:]*[0-9+/=])[A-Za-z0-9\-._~+/:]{8,}=*"
)
_SCHEME_HINTS = ("bearer", "sharedkey", "basic", "digest", "negotiate", "ntlm")
#: JSON Web Tokens: three base64url parts, the first two starting with '{"' encoded.
_JWT = _Pattern(r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*")
#: The password of a URL's userinfo: the last '@' before the host ends it.
_USERINFO = _Pattern(r"""(?i:\b[a-z][a-z0-9+.\-]{0,30}://[^\s:/@"'\\]*:)([^\s/"'\\]+)(?=@[^\s/@"'\\]*)""")
#: PEM private keys, whole (to the end of the text when the END line was cut away); raw, escaped or URL-encoded.
_SP = r"(?:[ +]|%20)"
_PEM = _Pattern(
    rf"-----BEGIN{_SP}((?:[A-Z0-9]+{_SP}){{0,4}}PRIVATE{_SP}KEY(?:{_SP}[A-Z0-9]+){{0,2}})-----"
    r".*?(?:-----END(?:[ +]|%20)\1-----|\Z)",
    re.S,
)


def _pem_label(match: re.Match[str]) -> str:
    return f"[REDACTED:{re.sub(_SP, ' ', match.group(1))}]"


def _keep_scheme(match: re.Match[str]) -> str:
    return f"{match.group(1) or match.group(2)}{MASK}"


def mask_shapes(text: str) -> str:
    """``text`` with credential shapes and the values of secret-named keys masked."""
    low = text.lower()
    if "-----begin" in low:
        text = _PEM.sub(_pem_label, text)
    if "://" in text and "@" in text:
        text = _USERINFO.sub(lambda m: f"{m.group(0)[: m.start(1) - m.start()]}{MASK}", text)
    text = _mask_pairs(text, text.lower())
    if any(hint in low for hint in _SCHEME_HINTS):
        text = _SCHEME.sub(_keep_scheme, text)
    if "eyj" in low:
        text = _JWT.sub(MASK, text)
    return text


# -- name=value pairs in text --------------------------------------------------------------------------


def _mask_pairs(text: str, low: str) -> str:
    """Mask the values of secret-named keys in text: JSON, repr, headers, query strings, connection strings."""
    out: list[str] = []
    done = 0  # text[:done] is in `out`
    for start in _name_starts(text, low):
        if start < done:
            continue  # inside a value masked already
        pair = _pair_at(text, start)
        if pair is None or not secret_key(pair[0]):
            continue
        masked, end = _masked_value(text, pair[1], pair[0])
        if end > pair[1]:
            out.append(text[done : pair[1]])
            out.append(masked)
            done = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def _name_starts(text: str, low: str) -> list[int]:
    """Where the words that hold a name hint start, in order: C-speed finds instead of a regex over the text."""
    if len(low) == len(text):
        found = []
        for hint in _NAME_HINTS:
            index = low.find(hint)
            while index >= 0:
                found.append(index)
                index = low.find(hint, index + len(hint))
    else:  # lower() changed the length (a few non-ASCII letters): the indexes must come from the text itself
        found = [match.start() for match in _NAME_HINT.finditer(text)]
    return sorted({_word_start(text, index) for index in found})


def _word_start(text: str, index: int) -> int:
    limit = max(0, index - 80)
    while index > limit and (text[index - 1].isalnum() or text[index - 1] in "_.-"):
        index -= 1
    return index


def _pair_at(text: str, start: int) -> tuple[str, int] | None:
    """``(name, where its value starts)`` when a ``name: value`` / ``name=value`` pair starts at ``start``."""
    match = _PAIR_AT.match(text, start)
    if match is None:
        return None
    if match.group(3) == ",":
        # Only a pair in a tuple or a list, ('name', 'value'): in a JSON object, a comma ends a value.
        quote_text = match.group(2) or ""
        opened = start - len(quote_text)
        if not quote_text or text[opened:start] != quote_text or opened < 1 or text[opened - 1] not in "([":
            return None
        if _QUOTE_OPEN.match(text, match.end()) is None:
            return None
    return match.group(1), match.end()


def _masked_value(text: str, start: int, name: str) -> tuple[str, int]:
    """The masked value that starts at ``start`` (its quotes kept), and where it ends."""
    opener = _QUOTE_OPEN.match(text, start)
    if opener is not None:
        quote_text = opener.group()
        inner_start = opener.end()
        inner_end = _closing_quote(text, inner_start, quote_text)
        inner = text[inner_start:inner_end]
        kept = ""
        if _is_authorization(name):
            scheme = _SCHEME_INSIDE.match(inner)
            kept = scheme.group(1) if scheme else ""
        if not inner:
            return "", start
        return f"{quote_text}{kept}{MASK}", inner_end
    label = _LABEL.match(text, start)
    if label is not None:
        return MASK, label.end()
    if _is_cookie(name):
        found = _COOKIE_VALUE.match(text, start)
        return (MASK, found.end()) if found else ("", start)
    if _is_authorization(name):
        auth = _AUTH_VALUE.match(text, start)
        if auth is None:
            return "", start
        return f"{auth.group(1) or ''}{MASK}", auth.end()
    plain = _PLAIN_VALUE.match(text, start)
    return (MASK, plain.end()) if plain else ("", start)


def _closing_quote(text: str, start: int, quote_text: str) -> int:
    """Where a quoted value that opened with ``quote_text`` ends (before its closing quote)."""
    if len(quote_text) == 1:  # a plain quote: backslash escapes are part of the value
        index = start
        while index < len(text):
            char = text[index]
            if char == "\\":
                index += 2
                continue
            if char == quote_text or char in "\r\n":
                return index
            index += 1
        return len(text)
    found = text.find(quote_text, start)  # an escaped quote (\"): the value ends at the next one
    if found < 0:
        newline = text.find("\n", start)
        return len(text) if newline < 0 else newline
    return found
