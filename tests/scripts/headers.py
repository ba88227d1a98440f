"""A run() that declares request_headers: the server passes the headers dict."""

import json


def init():
    pass


def run(data, request_headers):
    return {
        "data": json.loads(data),
        "custom": request_headers.get("X-Custom-Header"),
        "has_headers": isinstance(request_headers, dict),
    }
