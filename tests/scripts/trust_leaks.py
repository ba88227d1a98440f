"""Secrets where issue 12's trust findings found them leaking: exception messages, printed headers, logged
payloads, URLs, cookies; and request content with terminal escape sequences. The case comes in ``X-Case``."""

import json
import logging
import os

logger = logging.getLogger("user.trust")


def init():
    pass


def _fail_with_pem():
    key = os.environ["JWT_PRIVATE_KEY"]
    # The key inside a long message: the message is cut to its bounds, the cut falls inside the key.
    raise ValueError(f"could not sign the token: {'context ' * 100}{key}{' and more' * 80}")


def _cases(raw_data, headers):
    return {
        "keyerror": lambda: _raise(KeyError(os.environ["DB_PASSWORD"])),
        "pem": _fail_with_pem,
        "print_headers": lambda: print(json.dumps(headers)),
        "db_pass": lambda: logger.warning("database login failed with %s", os.environ["DB_PASS"]),
        "short": lambda: logger.warning("smtp login", extra={"smtp_pass": os.environ["SMTP_PASS"]}),
        "url": lambda: logger.error("cannot reach postgresql://scorer:%s@db.internal:5432/features", "Url-Pw-s3cr3t"),
        "set_cookie": lambda: print("Set-Cookie: session=Sess-Cookie-9f8e7d; Path=/; HttpOnly"),
        "payload": lambda: logger.info("payload %s", raw_data),
        "digits": lambda: logger.warning(
            "service token %s; 1%s0 and %s.5 are other numbers", *[os.environ["SERVICE_TOKEN"]] * 3
        ),
        "echo": lambda: logger.warning("body: %s", raw_data),
    }


def _raise(error):
    raise error


def run(raw_data, request_headers):
    headers = dict(request_headers)
    case = {key.lower(): value for key, value in headers.items()}.get("x-case", "ok")
    action = _cases(raw_data, headers).get(case)
    if action is not None:
        action()
    return {"ok": True, "case": case}
