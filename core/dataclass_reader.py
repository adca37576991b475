"""JSON values read into frozen dataclasses, checked against each field's declared type. Pure.

The live tools trust what they read back from the stack outputs only after this: every
field present (one with a default may be absent), text where the dataclass says `str`, a
whole number (not true/false) where it says `int`, a list of the declared items where it
says `tuple[X, ...]`, an object of text where it says `Mapping[str, str]`, a nested
dataclass where it names one, null only where it says `X | None`. The checks are derived from the type hints, so a field added to
a dataclass is checked without a line here. A mismatch names its path:
`estate.services[0].container_port: expected a whole number, got null`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
Reader = Callable[[Any, str], Any]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class ShapeError(Exception):
    """The value does not have the declared shape; the message names the path and what is wrong."""


def read(cls: type[T], value: Any, where: str) -> T:
    """`value` as an instance of the dataclass `cls`; ShapeError naming the first mismatch."""
    result: T = reader_for(cls)(value, where)
    return result


def reader_for(annotation: Any) -> Reader:
    """The checking reader of one declared type. TypeError for a type it cannot check: that is
    a field this module must learn, found by the tests (every field of the estate is read)."""
    if annotation is str:
        return _scalar(str, "text")
    if annotation is bool:
        return _scalar(bool, "true or false")
    if annotation is int:
        return _whole_number
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return _dataclass_reader(annotation)
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union) and len(arguments) == 2 and type(None) in arguments:
        (inner,) = (argument for argument in arguments if argument is not type(None))
        return _optional(reader_for(inner), _expected(inner))
    if origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis:
        return _list_of(reader_for(arguments[0]))
    if origin in (Mapping, dict) and arguments and arguments[0] is str:
        return _mapping_of(reader_for(arguments[1]))
    raise TypeError(f"core/dataclass_reader.py cannot check a field of type {annotation!r}")


def _scalar(kind: type, expected: str) -> Reader:
    def read_scalar(value: Any, where: str) -> Any:
        # bool is an int in Python, and an int is not a bool: exact types only.
        if type(value) is not kind:
            raise ShapeError(f"{where}: expected {expected}, got {describe(value)}")
        return value

    return read_scalar


def _whole_number(value: Any, where: str) -> int:
    if type(value) is not int:  # true/false is not a number, whatever Python says
        raise ShapeError(f"{where}: expected a whole number, got {describe(value)}")
    return value


def _optional(inner: Reader, expected: str) -> Reader:
    def read_optional(value: Any, where: str) -> Any:
        if value is None:
            return None
        try:
            return inner(value, where)
        except ShapeError as error:
            # "expected text or null", when the value itself (not something inside it) is wrong
            prefix = f"{where}: expected {expected}, "
            message = str(error)
            if message.startswith(prefix):
                raise ShapeError(f"{where}: expected {expected} or null, {message[len(prefix) :]}") from None
            raise

    return read_optional


def _list_of(item: Reader) -> Reader:
    def read_list(value: Any, where: str) -> tuple[Any, ...]:
        if not isinstance(value, (list, tuple)):
            raise ShapeError(f"{where}: expected a list, got {describe(value)}")
        return tuple(item(entry, f"{where}[{index}]") for index, entry in enumerate(value))

    return read_list


def _mapping_of(item: Reader) -> Reader:
    def read_mapping(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ShapeError(f"{where}: expected an object, got {describe(value)}")
        result = {}
        for key, entry in value.items():
            if not isinstance(key, str):
                raise ShapeError(f"{where}: expected text keys, got {describe(key)}")
            result[key] = item(entry, _child(where, key))
        return result

    return read_mapping


_DATACLASS_READERS: dict[type, Reader] = {}


def _dataclass_reader(cls: type) -> Reader:
    if cls in _DATACLASS_READERS:
        return _DATACLASS_READERS[cls]

    def read_dataclass(value: Any, where: str) -> Any:
        if not isinstance(value, Mapping):
            raise ShapeError(f"{where}: expected an object, got {describe(value)}")
        missing = [name for name in readers if name not in value and name not in defaulted]
        if missing:
            raise ShapeError(f"{where} lacks {', '.join(missing)}")
        # Keys it does not declare are left alone: outputs of a newer program version still read.
        # A field with a default may be absent (an optional fact written only when there is one).
        return cls(
            **{
                name: field_reader(value[name], _child(where, name))
                for name, field_reader in readers.items()
                if name in value
            }
        )

    # Registered before the fields are resolved, so a dataclass that holds itself terminates.
    _DATACLASS_READERS[cls] = read_dataclass
    hints = typing.get_type_hints(cls)
    readers = {field.name: reader_for(hints[field.name]) for field in dataclasses.fields(cls)}
    defaulted = {
        field.name
        for field in dataclasses.fields(cls)
        if field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
    }
    return read_dataclass


def _expected(annotation: Any) -> str:
    if annotation is str:
        return "text"
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "a whole number"
    if typing.get_origin(annotation) is tuple:
        return "a list"
    return "an object"


def _child(where: str, key: str) -> str:
    return f"{where}.{key}" if _IDENTIFIER.match(key) else f"{where}[{json.dumps(key[:60])}]"


def describe(value: Any) -> str:
    """A JSON value in words, the way the file shows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= 10**18:  # repr() of a huge int is slow, or refused
        return f"a whole number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {json.dumps(value[:40])}" + ("..." if len(value) > 40 else "")
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
