"""@rawhttp: run() receives the Flask request and may answer with an AMLResponse."""

import json

from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse


def init():
    pass


@rawhttp
def run(request: AMLRequest):
    if request.method == "GET":
        return AMLResponse(json.dumps({"args": dict(request.args)}), 200, {"Content-Type": "application/json"})
    body = request.get_data(as_text=True)
    if body == "teapot":
        return AMLResponse("short and stout", 418, {"X-Custom": "a, b"})
    if body == "server-error":
        return AMLResponse("failed on purpose", 503)
    return {"length": len(body), "content_type": request.headers.get("Content-Type")}
