"""``score-shim vscode``: the launch.json attach configuration for a shim's debugpy port.

VS Code's ``launch.json`` is JSONC (comments, trailing commas) and users keep other configurations in
it. ``--write`` therefore edits the text, not a re-serialised copy: a small parser finds where things are
(`_Parser` records the span of every value), the one configuration with the same name is replaced or
the new one appended, and everything else, comments included, stays byte for byte. The result is parsed
again before it replaces the file (atomically); anything the parser cannot read is refused, untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_NAME = "score-shim: attach to the scoring container"
LOCAL_NAME = "score-shim: attach to serve on this machine"
AZUREML_APP = "/var/azureml-app"


class VSCodeError(Exception):
    """A problem said in one line (the CLI prints it without a traceback)."""


@dataclass
class AttachOptions:
    port: int = 5678
    host: str = "127.0.0.1"
    local_root: Path | None = None  # default: the current directory
    remote_root: str | None = None  # default: /var/azureml-app/<local folder name>
    name: str = DEFAULT_NAME
    just_my_code: bool = True
    local: bool = False  # score-shim serve on this machine: the files are where VS Code has them, no mapping


def configuration(options: AttachOptions, workspace: Path) -> dict[str, Any]:
    """One ``debugpy`` attach configuration; the local root is written relative to the workspace when inside it.

    For ``serve`` on this machine (``local``) there is no ``pathMappings``: the server runs the very files VS
    Code shows, and a mapping to ``/var/azureml-app`` would make every breakpoint "in a file that does not exist".
    """
    if options.local:
        return {
            "name": options.name,
            "type": "debugpy",
            "request": "attach",
            "connect": {"host": options.host, "port": options.port},
            "justMyCode": options.just_my_code,
        }
    local = (options.local_root or workspace).resolve()
    remote = options.remote_root or f"{AZUREML_APP}/{local.name}"
    try:
        relative = local.relative_to(workspace.resolve())
        local_text = "${workspaceFolder}" + ("" if str(relative) == "." else f"/{relative.as_posix()}")
    except ValueError:
        local_text = str(local)
    return {
        "name": options.name,
        "type": "debugpy",
        "request": "attach",
        "connect": {"host": options.host, "port": options.port},
        "pathMappings": [{"localRoot": local_text, "remoteRoot": remote}],
        "justMyCode": options.just_my_code,
    }


def launch_json(config: dict[str, Any]) -> str:
    """A whole launch.json holding ``config``."""
    return json.dumps({"version": "0.2.0", "configurations": [config]}, indent=4) + "\n"


# -- a JSONC parser that remembers where each value is ---------------------------------------------------


@dataclass
class _Node:
    value: Any
    start: int
    end: int  # one past the last character
    members: list[tuple[str, _Node]] | None = None  # objects: (key, value) in order
    items: list[_Node] | None = None  # arrays


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def fail(self, what: str) -> VSCodeError:
        line = self.text.count("\n", 0, self.at) + 1
        return VSCodeError(f"{what} at line {line}")

    def skip(self) -> None:
        """Whitespace and comments."""
        text = self.text
        while self.at < len(text):
            char = text[self.at]
            if char in " \t\r\n\ufeff":
                self.at += 1
            elif text.startswith("//", self.at):
                end = text.find("\n", self.at)
                self.at = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.at):
                end = text.find("*/", self.at + 2)
                if end < 0:
                    raise self.fail("unclosed /* comment")
                self.at = end + 2
            else:
                return

    def value(self) -> _Node:
        self.skip()
        if self.at >= len(self.text):
            raise self.fail("unexpected end of file")
        char = self.text[self.at]
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char == '"':
            return self.string()
        return self.scalar()

    def string(self) -> _Node:
        start = self.at
        decoder = json.JSONDecoder()
        try:
            value, end = decoder.raw_decode(self.text, start)
        except ValueError:
            raise self.fail("bad string") from None
        self.at = end
        return _Node(value, start, end)

    def scalar(self) -> _Node:
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in ",]}/ \t\r\n":
            self.at += 1
        token = self.text[start : self.at]
        try:
            value = json.loads(token)
        except ValueError:
            raise self.fail(f"unexpected {token[:20]!r}") from None
        return _Node(value, start, self.at)

    def object(self) -> _Node:
        start = self.at
        self.at += 1
        members: list[tuple[str, _Node]] = []
        while True:
            self.skip()
            if self.text.startswith("}", self.at):
                self.at += 1
                break
            key = self.value()
            if not isinstance(key.value, str):
                raise self.fail("expected a quoted key")
            self.skip()
            if not self.text.startswith(":", self.at):
                raise self.fail("expected ':'")
            self.at += 1
            members.append((key.value, self.value()))
            self.skip()
            if self.text.startswith(",", self.at):
                self.at += 1
            elif not self.text.startswith("}", self.at):
                raise self.fail("expected ',' or '}'")
        value = {key: node.value for key, node in members}
        return _Node(value, start, self.at, members=members)

    def array(self) -> _Node:
        start = self.at
        self.at += 1
        items: list[_Node] = []
        while True:
            self.skip()
            if self.text.startswith("]", self.at):
                self.at += 1
                break
            items.append(self.value())
            self.skip()
            if self.text.startswith(",", self.at):
                self.at += 1
            elif not self.text.startswith("]", self.at):
                raise self.fail("expected ',' or ']'")
        return _Node([item.value for item in items], start, self.at, items=items)

    def document(self) -> _Node:
        node = self.value()
        self.skip()
        if self.at != len(self.text):
            raise self.fail("unexpected text after the end")
        return node


def parse_jsonc(text: str) -> _Node:
    return _Parser(text).document()


def _indented(config: dict[str, Any], indent: str) -> str:
    body = json.dumps(config, indent=4)
    return body.replace("\n", "\n" + indent)


def _line_indent(text: str, at: int) -> str:
    line_start = text.rfind("\n", 0, at) + 1
    prefix = text[line_start:at]
    return prefix if not prefix.strip() else ""


def merge(text: str, config: dict[str, Any]) -> tuple[str, str]:
    """``text`` with ``config`` in its configurations; returns the new text and what was done."""
    root = parse_jsonc(text)
    if root.members is None:
        raise VSCodeError("the file is not a JSON object")
    configurations = dict(root.members).get("configurations")
    if configurations is None:
        # Insert the key before the closing brace, after the last member.
        closing = root.end - 1
        if root.members:
            last = root.members[-1][1]
            rest = text[last.end : closing]
            comma = "" if _has_comma(rest) else ","
            insert_at = last.end
            block = _indented(config, "        ")
            addition = f'{comma}\n    "configurations": [\n        {block}\n    ]'
        else:
            insert_at = root.start + 1
            block = _indented(config, "        ")
            addition = f'\n    "configurations": [\n        {block}\n    ]\n'
        return text[:insert_at] + addition + text[insert_at:], "added"
    if configurations.items is None:
        raise VSCodeError('"configurations" is not a list')
    for item in configurations.items:
        if isinstance(item.value, dict) and item.value.get("name") == config.get("name"):
            indent = _line_indent(text, item.start)
            return text[: item.start] + _indented(config, indent) + text[item.end :], "replaced"
    items = configurations.items
    if items:
        last = items[-1]
        indent = _line_indent(text, last.start) or "        "
        closing = configurations.end - 1
        rest = text[last.end : closing]
        block = _indented(config, indent)
        if _has_comma(rest):
            comma_at = last.end + _comma_index(rest)
            at = _end_of_comment_line(text, comma_at + 1)  # a comment after the comma stays with its item
            return text[:at] + f"\n{indent}{block}," + text[at:], "added"
        at = _end_of_comment_line(text, last.end)
        if at == last.end:
            return text[: last.end] + f",\n{indent}{block}" + text[last.end :], "added"
        # "} // mine": the comma goes after the item, the comment stays on its line, the new item after it.
        return text[: last.end] + "," + text[last.end : at] + f"\n{indent}{block}" + text[at:], "added"
    indent = _line_indent(text, configurations.start) + "    "
    inside = configurations.start + 1
    return text[:inside] + f"\n{indent}{_indented(config, indent)}\n" + text[inside:], "added"


def _end_of_comment_line(text: str, at: int) -> int:
    """Where the line of ``at`` ends when the rest of it is only a comment (``// mine``), else ``at``."""
    line_end = text.find("\n", at)
    line_end = len(text) if line_end < 0 else line_end
    rest = text[at:line_end].strip()
    if rest.startswith("//") or (rest.startswith("/*") and rest.endswith("*/") and "*/" not in rest[2:-2]):
        return line_end
    return at


def _comma_index(between: str) -> int:
    """The index of the comma that follows a value, skipping comments (-1 when none)."""
    parser = _Parser(between)
    parser.skip()
    return parser.at if between.startswith(",", parser.at) else -1


def _has_comma(between: str) -> bool:
    return _comma_index(between) >= 0


def write(path: Path, config: dict[str, Any]) -> str:
    """Merge ``config`` into the launch.json at ``path`` (created when missing); returns what was done."""
    if path.exists():
        try:
            original = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise VSCodeError(f"cannot read {path}: {error}") from None
        if not original.strip():
            updated, done = launch_json(config), "added"
        else:
            try:
                updated, done = merge(original, config)
            except VSCodeError as error:
                raise VSCodeError(
                    f"{path} was left as it is: it could not be read as JSON with comments ({error}); "
                    "fix it, or print the configuration without --write and paste it in"
                ) from None
        # Never write what cannot be read back, with the configuration in it.
        check = parse_jsonc(updated).value
        names = [c.get("name") for c in check.get("configurations", []) if isinstance(c, dict)]
        if names.count(config["name"]) != 1:
            raise VSCodeError(f"{path} was left as it is: merging the configuration failed")
    else:
        updated, done = launch_json(config), "created"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        handle, temporary = tempfile.mkstemp(prefix=".launch-", suffix=".json", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(updated)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        raise VSCodeError(f"cannot write {path}: {error.strerror or error}") from None
    return done


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
