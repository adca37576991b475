"""YAML read as JSON-like data, bounded: what a stack file may hold, nothing more. Pure (PyYAML).

`yaml.safe_load` still accepts what a config file never needs and a typo or a hostile
file can abuse: aliases (a 1 KB "billion laughs" file becomes gigabytes once anything walks
it), nesting of any depth (RecursionError), integers of any length (ValueError past 4300
digits), dates, binary, sets and merge keys (values JSON cannot carry, and Pulumi hands the
config to the program as JSON), duplicate keys (the last silently wins) and non-text keys.

`load` walks the parser's event stream instead (iteratively: no recursion, however deep
the nesting) and builds the value itself, so each of those is refused where it is met,
with its line and key path. Plain scalars are typed the way PyYAML types them (YAML 1.1),
so a stack reads as it did with `yaml.safe_load`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

MAX_DEPTH = 32
# 18 digits hold every whole number a setting takes (a port, a count, a size, days) with
# room to spare, and stay far below the 4300 digits past which int() refuses.
MAX_INT_DIGITS = 18

Path = tuple[str | int, ...]

# libyaml's parser when PyYAML was built with it (10x faster), else PyYAML's own.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = Resolver()


def _resolve(text: str, implicit: tuple[bool, bool]) -> str:
    """The tag YAML 1.1 gives a scalar (PyYAML's resolver; its stub leaves it untyped)."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, implicit)  # type: ignore[no-untyped-call]
    return tag


_CONSTRUCTOR = SafeConstructor()

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null"))
SEQ, MAP = f"{_TAG}seq", f"{_TAG}map"
_SCALARS = frozenset({STR, INT, FLOAT, BOOL, NULL})
_JSON_LIKE = "only text, numbers, true/false, null, lists and mappings are accepted"
# What YAML 1.1 reads some plain scalars as, besides the JSON-like types.
_IMPLICIT = {
    f"{_TAG}timestamp": "a date",
    f"{_TAG}merge": "a merge key",
    f"{_TAG}value": "a YAML 1.1 value key",
}
_ANCHORS_FIX = (
    "write the value out in full: anchors and aliases are refused, so that a small file cannot expand into a huge one"
)
# The characters YAML allows in a stream (YAML 1.1, 5.1): anything else stops the parser.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z0-9_:/@*-]+$")
_PATH_SHOWN = 12


class YamlRefused(Exception):
    """What is wrong, where (line, key path), and the fix."""

    def __init__(self, what: str, fix: str, *, line: int | None, path: Path = ()):
        self.what = what
        self.fix = fix
        self.line = line
        self.path = path
        super().__init__(str(self))

    def where(self, path: str | None = None) -> str:
        """`line 12, at services.api.cpu`; `path` replaces the key path as the caller names it."""
        path = format_path(self.path) if path is None else path
        parts = (f"line {self.line}" if self.line else "", f"at {path}" if path else "")
        return ", ".join(part for part in parts if part)

    def __str__(self) -> str:
        where = self.where()
        return f"{where + ': ' if where else ''}{self.what}\n  fix: {self.fix}"


def format_path(path: Path) -> str:
    """Segments as `pulumi config set --path` writes them: `services.api.routes[0]["a.b"]`."""
    if len(path) > _PATH_SHOWN:  # nested too deep to be readable: the start and the end
        return f"{format_path(path[: _PATH_SHOWN // 2])}...{format_path(path[-(_PATH_SHOWN // 2) :]).lstrip('.')}"
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif _PLAIN_SEGMENT.match(segment):
            text += f".{segment}" if text else segment
        else:
            text += f"[{json.dumps(_shorten(segment))}]"
    return text


def load(text: str, *, max_depth: int = MAX_DEPTH, max_int_digits: int = MAX_INT_DIGITS) -> Any:
    """The one document in `text` as dicts, lists, str, int, float, bool and None.

    Raises YamlRefused for anything else, and for text that is not YAML: never another
    exception, and in time linear in the length of `text`.
    """
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        utf16 = " (NUL characters usually mean the file was saved as UTF-16: save it as UTF-8)"
        raise YamlRefused(
            f"holds the character U+{ord(bad.group()):04X} (column {column}), which YAML does not allow",
            "remove it" + (utf16 if bad.group() == "\x00" else ""),
            line=line,
        )
    return _Builder(max_depth, max_int_digits).build(text)


# The key a mapping is waiting for (a mapping's events alternate key, value).
_NO_KEY = object()


@dataclass
class _Open:
    """A list or mapping whose end event has not come yet."""

    value: list[Any] | dict[str, Any]
    path: Path
    key: Any = _NO_KEY
    # key -> the line it was first written on (for duplicates)
    key_lines: dict[str, int] = field(default_factory=dict)


class _Builder:
    def __init__(self, max_depth: int, max_int_digits: int):
        self.max_depth = max_depth
        self.max_int_digits = max_int_digits
        self.open: list[_Open] = []
        self.root: Any = None
        self.documents = 0
        self.line: int | None = None

    def build(self, text: str) -> Any:
        try:
            for event in yaml.parse(text, Loader=_LOADER):
                self.line = _line(event) or self.line
                self._event(event)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problem = " ".join(part for part in (error.context, error.problem) if part)
            raise YamlRefused(
                f"is not valid YAML: {problem}",
                "correct the YAML there: indent with spaces (not tabs), close every quote and bracket, "
                "and quote a value that holds ': ' or ' #' or starts with one of { [ * & ! % @ `",
                line=mark.line + 1 if mark else self.line,
                path=self._here(),
            ) from None
        except yaml.YAMLError as error:  # ReaderError and the like: no mark, a message
            raise YamlRefused(
                f"is not valid YAML: {_shorten(str(error), 200)}", "correct the YAML", line=self.line, path=self._here()
            ) from None
        return self.root

    def _event(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise YamlRefused(
                    "holds a second YAML document (after '---')",
                    "keep one document: remove the second '---' and what follows it, or merge the two",
                    line=self.line,
                )
        elif isinstance(event, yaml.AliasEvent):
            raise YamlRefused(
                f"uses the alias *{_shorten(event.anchor or '')}", _ANCHORS_FIX, line=self.line, path=self._here()
            )
        elif isinstance(event, yaml.NodeEvent):  # a scalar, or the start of a list or mapping
            if event.anchor is not None:
                raise YamlRefused(
                    f"defines the anchor &{_shorten(event.anchor)}", _ANCHORS_FIX, line=self.line, path=self._here()
                )
            if isinstance(event, yaml.ScalarEvent):
                self._place(self._scalar(event))
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                self._start(event)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            self._place(self.open.pop().value)

    # -- where we are -------------------------------------------------------

    def _expecting_key(self) -> bool:
        return bool(self.open) and isinstance(self.open[-1].value, dict) and self.open[-1].key is _NO_KEY

    def _here(self) -> Path:
        """The path of the node the next event is (a key is reported at its mapping)."""
        if not self.open:
            return ()
        top = self.open[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        return top.path if top.key is _NO_KEY else (*top.path, top.key)

    # -- building -----------------------------------------------------------

    def _start(self, event: yaml.SequenceStartEvent | yaml.MappingStartEvent) -> None:
        is_list = isinstance(event, yaml.SequenceStartEvent)
        if self._expecting_key():
            raise YamlRefused(
                f"has a {'list' if is_list else 'mapping'} as a key", "keys are text: write a text key", **self._at()
            )
        if event.tag not in (None, "!", SEQ if is_list else MAP):
            raise YamlRefused(f"has the tag {_tag(event.tag)}", f"remove the tag: {_JSON_LIKE}", **self._at())
        if len(self.open) >= self.max_depth:
            raise YamlRefused(
                f"is nested more than {self.max_depth} levels deep",
                "flatten it: no setting is nested nearly that deep (an unclosed '[' or '{' can look like this)",
                **self._at(),
            )
        self.open.append(_Open([] if is_list else {}, self._here()))

    def _place(self, value: Any) -> None:
        if not self.open:
            self.root = value
            return
        top = self.open[-1]
        if isinstance(top.value, list):
            top.value.append(value)
        elif top.key is _NO_KEY:  # `value` is a key: _scalar made sure it is text
            first = top.key_lines.get(value)
            if first is not None:
                raise YamlRefused(
                    f"has the key {_shorten(value)!r} twice (lines {first} and {self.line})",
                    "keep one of them: YAML would silently use the last",
                    line=self.line,
                    path=top.path,
                )
            top.key = value
            top.key_lines[value] = self.line or 0
        else:
            top.value[top.key] = value
            top.key = _NO_KEY

    def _scalar(self, event: yaml.ScalarEvent) -> Any:
        text = event.value
        is_key = self._expecting_key()
        if event.tag in (None, "!"):
            tag = _resolve(text, event.implicit)
        else:
            tag = event.tag
            # An explicit !!int, !!bool, ...: only on a value YAML reads as one anyway.
            if tag in _SCALARS - {STR} and _resolve(text, (True, False)) != tag:
                raise YamlRefused(
                    f"is tagged {_tag(tag)} but {_shorten(text)!r} is not one", "remove the tag", **self._at()
                )
        if tag not in _SCALARS:
            kind = _IMPLICIT.get(tag)
            if kind is None:
                raise YamlRefused(f"has the tag {_tag(tag)}", f"remove the tag: {_JSON_LIKE}", **self._at())
            raise YamlRefused(
                f"{'has the key' if is_key else 'is'} {_shorten(text)!r}, which YAML reads as {kind}, not as text",
                f"quote it ('{_shorten(text)}') to keep it text",
                **self._at(),
            )
        if is_key and tag != STR:
            raise YamlRefused(
                f"has the key {_shorten(text)!r}, which YAML reads as {_KINDS[tag]}, not as text",
                f"quote the key ('{_shorten(text)}'): keys are text",
                **self._at(),
            )
        if tag == STR:
            return self._text(text)
        if tag == NULL:
            return None
        if tag == BOOL:
            return _CONSTRUCTOR.bool_values[text.lower()]
        if tag == INT:
            digits = _digit_count(text)
            if digits > self.max_int_digits:
                raise YamlRefused(
                    f"is a whole number of {digits} digits; at most {self.max_int_digits} are accepted",
                    "use the number the setting needs (docs/SETTINGS.md gives each one's range), "
                    "or quote it if it is text",
                    **self._at(),
                )
            return _CONSTRUCTOR.construct_yaml_int(yaml.ScalarNode(tag, text))
        number = _CONSTRUCTOR.construct_yaml_float(yaml.ScalarNode(tag, text))
        if not math.isfinite(number):
            raise YamlRefused(
                f"is {_shorten(text)!r}, which is not a finite number (JSON cannot carry it)",
                "use a finite number, or quote it if it is text",
                **self._at(),
            )
        return number

    def _text(self, text: str) -> str:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise YamlRefused(
                "holds a lone surrogate (an escape such as \\ud800 that is half of a character)",
                "remove the \\uD800-\\uDFFF escape or write the whole character",
                **self._at(),
            ) from None
        return text

    def _at(self) -> dict[str, Any]:
        return {"line": self.line, "path": self._here()}


_KINDS = {INT: "a number", FLOAT: "a number", BOOL: "true/false", NULL: "null", STR: "text"}


def _digit_count(text: str) -> int:
    """The digits of a YAML 1.1 whole number: 0x1f, 0b101, 0755, 1_000, 1:20:30 (sexagesimal)."""
    body = text.lstrip("+-").replace("_", "")
    if body[:2] in ("0x", "0b"):
        return len(body) - 2
    return sum(character.isdigit() for character in body)


def _line(event: yaml.Event) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _tag(tag: str | None) -> str:
    tag = tag or "!"
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else _shorten(tag)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
