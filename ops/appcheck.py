"""appcheck: does the infrastructure give a service every variable its code reads?

envcheck compares what an application *documents* (`.env.example`) with the
contract (core/contract.py). appcheck reads the application's source itself,
because the incident this project exists for was a variable the code read
(`os.getenv("HUGGINGFACE_API_KEY")`, no default) that the deployed task never got.

    python -m ops.appcheck PATH/TO/APP/src [--service api] [--stack development] [--include-tests] [--json]

What counts as a read (found with Python's `ast`: the application is never
imported or run):
  - `os.getenv("X")`, `os.getenv("X", default)`, `os.environ.get("X"[, default])`,
    `os.environ["X"]`, `os.environ.setdefault/pop("X", ...)`, `"X" in os.environ`
    (and `not in`), also through `import os as o`, `from os import environ, getenv`
    (with or without `as`, or `from os import *`);
  - a nested default, `os.getenv("A", os.getenv("B", d))`: A and B are
    alternatives, either one provided is enough (like `AliasChoices("A", "B")`);
  - pydantic(-settings) `BaseSettings` subclasses (also through other settings
    classes of the tree): each field is a variable, upper-cased unless
    `case_sensitive`, prefixed with `env_prefix` (`model_config =
    SettingsConfigDict(...)`, a `model_config` dict, an inner `class Config`, or
    class keywords), or named by `Field(alias=...)`, `Field(validation_alias=...)`
    (`AliasChoices`, `AliasPath`), pydantic v1's `Field(env=...)`.
A name that is not a literal (a variable, an f-string with fields, an
`env_prefix` computed at run time), or a loop over `os.environ`, is a
"dynamic read, cannot tell" warning with its file:line, never dropped.

A read "has a default" when the code supplies a value for the unset case
(`os.getenv("X", "d")`, a settings field with a default). `None` as the
default is no default: unset, the code gets None either way.

Results (exit codes are ops/report.py's: 0 no gap, 1 gap, 2 could not check):
  FAIL app.missing               read with no default somewhere, not provided, not in not_provided:
                                 the HUGGINGFACE_API_KEY case
  FAIL app.missing_with_default  not provided either, but every read has an in-code default (or only
                                 tests whether it is set): the deployed service runs on the code's default
  WARN app.unread                provided by the contract (or the stack) but no code in the tree reads it
  WARN app.dynamic_read          a read whose variable cannot be told from the source
  WARN app.unparsed, app.too_large, app.unreadable, app.unlisted, app.symlink_outside
                                 a file or directory that was not checked, and why
  ok   app.provided, app.not_provided, app.alternative_provided

Bounds: only `*.py` files; a file over 2 MB is skipped with a warning; more than
20 000 Python files (or 500 000 directory entries) is "could not check" (exit 2);
symlinks are never followed (the ones pointing out of the tree are warned about);
`.git`, virtualenvs, `node_modules`, caches, and tests (`tests/`, `test/`,
`test_*.py`, `*_test.py`, `conftest.py`; `--include-tests` scans them) are skipped.

Pure logic (`scan_source`, `settings_reads`, `compare`) apart from the file walk
(`scan_tree`) and the command line.
"""

from __future__ import annotations

import argparse
import ast
import os
import stat
import sys
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from core.contract import CONTRACTS, ServiceContract, looks_secret
from ops.envcheck import Provision, contract_for, provided_by_contract, provided_by_stack, stack_service_settings
from ops.envdoc import DERIVED, PLAIN, SECRET, secret_config_key, setting_config_key
from ops.report import CannotCheck, Report, Result, Status, emit, fail, ok, run_tool, warn

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_PYTHON_FILES = 20_000
# A bound on the walk itself, so a tree of millions of non-Python files cannot run for ever.
MAX_DIRECTORY_ENTRIES = 500_000

# Directories that are never the application's own code.
SKIPPED_DIRECTORIES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "site-packages",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
    }
)
TEST_DIRECTORIES = frozenset({"tests", "test"})

# The names a module may bind these to without importing them explicitly (a
# re-export, a star import): matched by name, like the import would bind them.
_BASE_SETTINGS = "BaseSettings"
_FIELD = "Field"
_ALIAS_CHOICES = "AliasChoices"
_ALIAS_PATH = "AliasPath"
_ENVIRON_VALUE_METHODS = frozenset({"get", "pop", "setdefault"})
# `for name in os.environ`, `os.environ.items()`: every variable at once, by a pattern the code holds.
_ENVIRON_WHOLE_METHODS = frozenset({"items", "keys", "values"})
_EXPRESSION_SHOWN = 80


class Fallback(StrEnum):
    """What the code does when the variable is unset."""

    NONE = "no default"  # None, a KeyError, or a settings validation error
    DEFAULT = "in-code default"
    PRESENCE = "presence test"  # `"X" in os.environ`: the code branches on it


# How bad an unresolved read is, worst first: no default is the incident's case.
_FALLBACK_SEVERITY = {Fallback.NONE: 0, Fallback.PRESENCE: 1, Fallback.DEFAULT: 2}


@dataclass(frozen=True)
class EnvRead:
    """One place in the code that reads one environment variable."""

    # As the process environment must spell it: upper-cased for a case-insensitive settings field.
    name: str
    path: str  # relative to the scanned directory, '/'-separated
    line: int
    form: str  # how the code reads it: "os.getenv", "os.environ[]", "Settings.api_port", ...
    fallback: Fallback
    # False for a pydantic-settings field that is not case_sensitive: `Api_Host` satisfies it too.
    case_sensitive: bool = True
    # Every name of its group (itself included): `os.getenv("A", os.getenv("B"))`, AliasChoices("A", "B").
    alternatives: tuple[str, ...] = ()

    @property
    def site(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def others(self) -> tuple[str, ...]:
        return tuple(name for name in self.alternatives if name != self.name)


@dataclass(frozen=True)
class DynamicRead:
    """A read whose variable cannot be told from the source."""

    path: str
    line: int
    expression: str  # the code, shortened
    why: str

    @property
    def site(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Problem:
    """A file or directory that was not checked (a warning: the rest of the tree was)."""

    check: str
    subject: str
    finding: str
    fix: str


@dataclass(frozen=True)
class SettingsField:
    name: str
    line: int
    fallback: Fallback
    # Explicit environment names (alias, validation_alias, AliasChoices, v1 env=); None: from the field name.
    env_names: tuple[str, ...] | None = None
    # The alias expression when it is not a literal.
    dynamic_alias: str | None = None


@dataclass(frozen=True)
class ClassInfo:
    """A class that might be a settings class; which ones are is decided over the whole tree."""

    name: str
    path: str
    line: int
    bases: tuple[str, ...]  # simple names: `pydantic_settings.BaseSettings` -> "BaseSettings"
    derives_base_settings: bool
    # env_prefix / case_sensitive as this class sets them (absent: inherited or pydantic's default);
    # a non-literal value is kept as its expression in `dynamic_config`.
    config: Mapping[str, str | bool] = field(default_factory=dict)
    dynamic_config: Mapping[str, str] = field(default_factory=dict)
    fields: tuple[SettingsField, ...] = ()


@dataclass(frozen=True)
class FileScan:
    path: str
    reads: tuple[EnvRead, ...] = ()
    dynamic: tuple[DynamicRead, ...] = ()
    classes: tuple[ClassInfo, ...] = ()
    problems: tuple[Problem, ...] = ()


@dataclass
class Scan:
    """Everything found under one directory."""

    root: str
    reads: list[EnvRead] = field(default_factory=list)
    dynamic: list[DynamicRead] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files_scanned: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def variables(self) -> set[str]:
        return {read.name for read in self.reads}


# --------------------------------------------------------------------------- #
# One file: the reads in its source
# --------------------------------------------------------------------------- #


def _shown(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError):  # only for display: a very deep expression
        return f"<{type(node).__name__} expression>"
    text = " ".join(text.split())
    return text if len(text) <= _EXPRESSION_SHOWN else text[: _EXPRESSION_SHOWN - 3] + "..."


def _literal_string(node: ast.AST | None) -> str | None:
    """The string a node always evaluates to, or None when that needs running the code."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and all(isinstance(part, ast.Constant) for part in node.values):
        return "".join(str(part.value) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_string(node.left), _literal_string(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def _usable_name(name: str) -> bool:
    # What a task definition can set: non-empty, no '=', no whitespace or control characters.
    return bool(name) and "=" not in name and name.isprintable() and not any(c.isspace() for c in name)


def _simple_name(node: ast.AST) -> str | None:
    """`X` -> "X", `module.X` -> "X", `X[T]` -> "X"."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_none(node: ast.AST | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def _is_ellipsis(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


@dataclass
class _Names:
    """What this module binds `os`, `os.environ`, `os.getenv` and the pydantic names to."""

    os_modules: set[str] = field(default_factory=lambda: {"os"})
    environ: set[str] = field(default_factory=set)
    getenv: set[str] = field(default_factory=set)
    base_settings: set[str] = field(default_factory=lambda: {_BASE_SETTINGS})
    field_functions: set[str] = field(default_factory=lambda: {_FIELD})
    alias_choices: set[str] = field(default_factory=lambda: {_ALIAS_CHOICES})
    alias_path: set[str] = field(default_factory=lambda: {_ALIAS_PATH})

    @classmethod
    def of(cls, tree: ast.AST) -> _Names:
        names = cls()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "os" or alias.name.startswith("os."):
                        # `import os.path` binds `os`; `import os.path as p` binds a submodule.
                        if alias.asname is None:
                            names.os_modules.add("os")
                        elif alias.name == "os":
                            names.os_modules.add(alias.asname)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    bound = alias.asname or alias.name
                    if node.module == "os":
                        # `from os import *` binds both under their own names.
                        if alias.name in {"environ", "*"}:
                            names.environ.add("environ" if alias.name == "*" else bound)
                        if alias.name in {"getenv", "*"}:
                            names.getenv.add("getenv" if alias.name == "*" else bound)
                    elif node.module.split(".")[0] in {"pydantic", "pydantic_settings"}:
                        {
                            _BASE_SETTINGS: names.base_settings,
                            _FIELD: names.field_functions,
                            _ALIAS_CHOICES: names.alias_choices,
                            _ALIAS_PATH: names.alias_path,
                        }.get(alias.name, set()).add(bound)
        return names

    def is_environ(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id in self.os_modules
        return isinstance(node, ast.Name) and node.id in self.environ

    def is_getenv(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr == "getenv" and isinstance(node.value, ast.Name) and node.value.id in self.os_modules
        return isinstance(node, ast.Name) and node.id in self.getenv

    def is_value_read(self, node: ast.AST) -> bool:
        """A call that reads a variable's value without raising when it is unset."""
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if self.is_getenv(func):
            return True
        return isinstance(func, ast.Attribute) and func.attr in _ENVIRON_VALUE_METHODS and self.is_environ(func.value)

    def is_call_to(self, node: ast.AST | None, names: set[str]) -> bool:
        return isinstance(node, ast.Call) and _simple_name(node.func) in names


class _FileScanner:
    def __init__(self, tree: ast.Module, path: str) -> None:
        self.tree = tree
        self.path = path
        self.names = _Names.of(tree)
        self.reads: list[EnvRead] = []
        self.dynamic: list[DynamicRead] = []
        self.classes: list[ClassInfo] = []
        # Calls already read as part of an outer call's default chain.
        self.consumed: set[int] = set()

    def scan(self) -> FileScan:
        # ast.walk is breadth-first and iterative: an outer call is met before the calls in its
        # default, and a deeply nested file cannot exhaust the recursion limit here.
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                self._call(node)
            elif (
                isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and self.names.is_environ(node.value)
            ):
                self._read(node.slice, node, f"{_shown(node.value)}[]", Fallback.NONE)
            elif isinstance(node, ast.Compare):
                self._presence_tests(node)
            elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension) and self.names.is_environ(node.iter):
                self._whole_environ(node.iter, getattr(node, "lineno", None) or node.iter.lineno)
            elif isinstance(node, ast.ClassDef):
                self._class(node)
        return FileScan(self.path, tuple(self.reads), tuple(self.dynamic), tuple(self.classes))

    # -- direct reads ------------------------------------------------------- #

    def _call(self, call: ast.Call) -> None:
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in _ENVIRON_WHOLE_METHODS
            and self.names.is_environ(func.value)
        ):
            self._whole_environ(call, call.lineno)
            return
        if id(call) in self.consumed or not self.names.is_value_read(call):
            return
        # os.getenv("A", os.getenv("B", d)): follow the default while it is another such read.
        name_node, default = self._key_and_default(call)
        name = self._checked_name(name_node, call)
        if name is None:
            return
        chain: list[tuple[ast.Call, str]] = [(call, name)]
        current = default
        while isinstance(current, ast.Call) and self.names.is_value_read(current):
            name_node, default = self._key_and_default(current)
            inner = _literal_string(name_node)
            if inner is None or not _usable_name(inner):
                break  # the walk meets this inner read on its own and reports it as dynamic
            self.consumed.add(id(current))
            chain.append((current, inner))
            current = default
        fallback = Fallback.NONE if _is_none(current) else Fallback.DEFAULT
        group = tuple(dict.fromkeys(link_name for _, link_name in chain))
        for link, link_name in chain:
            self.reads.append(
                EnvRead(link_name, self.path, link.lineno, _shown(link.func), fallback, alternatives=group)
            )

    @staticmethod
    def _key_and_default(call: ast.Call) -> tuple[ast.expr | None, ast.expr | None]:
        positional = list(call.args)
        key = positional[0] if positional else _keyword(call, "key")
        default = positional[1] if len(positional) > 1 else _keyword(call, "default")
        return key, default

    def _checked_name(self, name_node: ast.expr | None, at: ast.AST) -> str | None:
        """The literal variable name, or None after recording a dynamic read."""
        line = getattr(at, "lineno", 0)
        if name_node is None or isinstance(name_node, ast.Starred):
            self.dynamic.append(DynamicRead(self.path, line, _shown(at), "the name is not given as an argument"))
            return None
        name = _literal_string(name_node)
        if name is None:
            self.dynamic.append(DynamicRead(self.path, line, _shown(at), "the name is computed at run time"))
            return None
        if not _usable_name(name):
            self.dynamic.append(DynamicRead(self.path, line, _shown(at), "the name is not a usable variable name"))
            return None
        return name

    def _read(self, name_node: ast.expr, at: ast.AST, form: str, fallback: Fallback) -> None:
        name = self._checked_name(name_node, at)
        if name is not None:
            line = getattr(at, "lineno", 0)
            self.reads.append(EnvRead(name, self.path, line, form, fallback, alternatives=(name,)))

    def _presence_tests(self, compare: ast.Compare) -> None:
        left = compare.left
        for operator, right in zip(compare.ops, compare.comparators, strict=False):
            if isinstance(operator, ast.In | ast.NotIn) and self.names.is_environ(right):
                self._read(left, compare, f"in {_shown(right)}", Fallback.PRESENCE)
            left = right

    def _whole_environ(self, node: ast.AST, line: int) -> None:
        self.dynamic.append(
            DynamicRead(
                self.path, line, _shown(node), "reads the whole environment: which variables matter is in the code"
            )
        )

    # -- settings classes --------------------------------------------------- #

    def _class(self, node: ast.ClassDef) -> None:
        bases = tuple(name for base in node.bases if (name := _simple_name(base)))
        if not bases:
            return
        config: dict[str, str | bool] = {}
        dynamic: dict[str, str] = {}
        self._config_keywords(node.keywords, config, dynamic)
        fields: list[SettingsField] = []
        for statement in node.body:
            if isinstance(statement, ast.ClassDef) and statement.name == "Config":
                self._config_class(statement, config, dynamic)
            elif isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "model_config" for t in statement.targets
            ):
                self._model_config(statement.value, config, dynamic)
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                name = statement.target.id
                if name == "model_config":
                    if statement.value is not None:
                        self._model_config(statement.value, config, dynamic)
                elif not name.startswith("_") and not self._is_class_var(statement.annotation):
                    fields.append(self._field(name, statement))
        self.classes.append(
            ClassInfo(
                name=node.name,
                path=self.path,
                line=node.lineno,
                bases=bases,
                derives_base_settings=any(base in self.names.base_settings for base in bases),
                config=config,
                dynamic_config=dynamic,
                fields=tuple(fields),
            )
        )

    @staticmethod
    def _is_class_var(annotation: ast.expr) -> bool:
        return _simple_name(annotation) == "ClassVar"

    @staticmethod
    def _config_value(key: str, value: ast.expr, config: dict[str, str | bool], dynamic: dict[str, str]) -> None:
        if key == "env_prefix":
            literal = _literal_string(value)
            if literal is None:
                dynamic[key] = _shown(value)
            else:
                config[key] = literal
        elif key == "case_sensitive":
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                config[key] = value.value
            else:
                dynamic[key] = _shown(value)

    def _config_keywords(
        self, keywords: Iterable[ast.keyword], config: dict[str, str | bool], dynamic: dict[str, str]
    ) -> None:
        for keyword in keywords:
            if keyword.arg is None:
                # `**other`: it may set env_prefix, and only running the code would tell.
                dynamic.setdefault("env_prefix", f"**{_shown(keyword.value)}")
            else:
                self._config_value(keyword.arg, keyword.value, config, dynamic)

    def _model_config(self, value: ast.expr, config: dict[str, str | bool], dynamic: dict[str, str]) -> None:
        if isinstance(value, ast.Call):
            self._config_keywords(value.keywords, config, dynamic)
            if value.args:
                dynamic.setdefault("env_prefix", _shown(value))
        elif isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values, strict=False):
                literal = _literal_string(key) if key is not None else None
                if literal is None:
                    dynamic.setdefault("env_prefix", _shown(value))
                else:
                    self._config_value(literal, item, config, dynamic)
        else:
            dynamic.setdefault("env_prefix", _shown(value))

    def _config_class(self, node: ast.ClassDef, config: dict[str, str | bool], dynamic: dict[str, str]) -> None:
        for statement in node.body:
            if isinstance(statement, ast.Assign):
                assignments = [(target, statement.value) for target in statement.targets]
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                assignments = [(statement.target, statement.value)]
            else:
                continue
            for target, value in assignments:
                if isinstance(target, ast.Name):
                    self._config_value(target.id, value, config, dynamic)

    def _field(self, name: str, statement: ast.AnnAssign) -> SettingsField:
        value = statement.value
        # Field(...) as the value, or inside Annotated[type, Field(...)].
        field_calls = [value] if self.names.is_call_to(value, self.names.field_functions) else []
        annotation = statement.annotation
        if isinstance(annotation, ast.Subscript) and _simple_name(annotation.value) == "Annotated":
            metadata = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
            field_calls += [m for m in metadata if self.names.is_call_to(m, self.names.field_functions)]

        if isinstance(value, ast.Call) and field_calls and field_calls[0] is value:
            fallback = self._field_call_fallback(value)
        elif value is None and field_calls and isinstance(field_calls[0], ast.Call):
            fallback = self._field_call_fallback(field_calls[0])  # Annotated[str, Field(default=...)]
        elif value is None or _is_none(value) or _is_ellipsis(value):
            fallback = Fallback.NONE
        else:
            fallback = Fallback.DEFAULT

        for call in field_calls:
            if not isinstance(call, ast.Call):
                continue
            alias = (
                _keyword(call, "validation_alias") or _keyword(call, "alias") or _keyword(call, "env")  # pydantic v1
            )
            if alias is not None:
                names = self._alias_names(alias)
                if names is None:
                    return SettingsField(name, statement.lineno, fallback, dynamic_alias=_shown(alias))
                return SettingsField(name, statement.lineno, fallback, env_names=names)
        return SettingsField(name, statement.lineno, fallback)

    @staticmethod
    def _field_call_fallback(call: ast.Call) -> Fallback:
        if _keyword(call, "default_factory") is not None:
            return Fallback.DEFAULT
        default = call.args[0] if call.args else _keyword(call, "default")
        if default is None or _is_none(default) or _is_ellipsis(default):
            return Fallback.NONE
        return Fallback.DEFAULT

    def _alias_names(self, alias: ast.expr) -> tuple[str, ...] | None:
        """The environment names an alias stands for; None when not all are literal."""
        if self.names.is_call_to(alias, self.names.alias_choices):
            assert isinstance(alias, ast.Call)
            parts = [self._alias_names(arg) for arg in alias.args]
            if not parts or any(p is None for p in parts) or alias.keywords:
                return None
            return tuple(dict.fromkeys(name for p in parts if p for name in p))
        if self.names.is_call_to(alias, self.names.alias_path):
            # AliasPath("A", 0): variable A, then an index into its (JSON) value.
            assert isinstance(alias, ast.Call)
            return self._alias_names(alias.args[0]) if alias.args else None
        if isinstance(alias, ast.List | ast.Tuple | ast.Set):  # pydantic v1: env=["A", "B"]
            names = [_literal_string(element) for element in alias.elts]
            if not names or any(n is None or not _usable_name(n) for n in names):
                return None
            return tuple(dict.fromkeys(n for n in names if n))
        literal = _literal_string(alias)
        return (literal,) if literal is not None and _usable_name(literal) else None


def scan_source(source: bytes | str, path: str) -> FileScan:
    """The environment reads in one Python file. Never raises for what the file holds.

    Bytes are parsed the way Python runs them (a PEP 263 coding line, a BOM);
    a file that does not parse is a Problem, not an exception.
    """
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences and the like: the application's business, not this report's.
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=path)
    except SyntaxError as error:
        return FileScan(path, problems=(_unparsed(path, _syntax_error_text(error)),))
    except ValueError as error:  # NUL bytes (Python 3.11 raises ValueError for them)
        return FileScan(path, problems=(_unparsed(path, str(error)),))
    except (RecursionError, MemoryError):
        return FileScan(path, problems=(_unparsed(path, "too deeply nested for the parser"),))
    try:
        return _FileScanner(tree, path).scan()
    except RecursionError:
        return FileScan(path, problems=(_unparsed(path, "too deeply nested to read"),))


def _syntax_error_text(error: SyntaxError) -> str:
    message = error.msg or "syntax error"
    if "unicode error" in message or "decode" in message or "encoding" in message:
        return f"not valid UTF-8 (nor its declared encoding): {message}"
    return f"syntax error at line {error.lineno}: {message}" if error.lineno else message


def _unparsed(path: str, why: str) -> Problem:
    return Problem(
        "app.unparsed",
        path,
        f"does not parse ({why}): the variables it reads are not checked",
        "if it is application code, fix it (it cannot run either); if it is not, move it out of the tree",
    )


# --------------------------------------------------------------------------- #
# Settings classes over the whole tree
# --------------------------------------------------------------------------- #


def settings_reads(classes: Sequence[ClassInfo]) -> tuple[list[EnvRead], list[DynamicRead]]:
    """The variables the tree's pydantic settings classes read, one per field and class.

    A class is a settings class when it derives from BaseSettings or, by name,
    from another settings class of the tree; it inherits its bases' fields and
    config (env_prefix, case_sensitive), its own overriding them.
    """
    by_name: dict[str, list[ClassInfo]] = defaultdict(list)
    for cls in classes:
        by_name[cls.name].append(cls)
    settings = {id(cls) for cls in classes if cls.derives_base_settings}
    changed = True
    while changed:  # a fixpoint: settings classes of settings classes, whatever the file order
        settings_names = {cls.name for cls in classes if id(cls) in settings}
        grown = {id(cls) for cls in classes if any(base in settings_names for base in cls.bases)}
        changed = not grown <= settings
        settings |= grown

    def parents(cls: ClassInfo) -> Iterator[ClassInfo]:
        for base in cls.bases:
            candidates = [c for c in by_name.get(base, []) if id(c) in settings and c is not cls]
            same_file = [c for c in candidates if c.path == cls.path]
            yield from same_file or candidates

    def lineage(cls: ClassInfo) -> list[ClassInfo]:
        """cls, then its settings bases depth-first, each once (cycles across files are cut)."""
        order: list[ClassInfo] = []
        stack, seen = [cls], set()
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            order.append(current)
            stack.extend(reversed(list(parents(current))))
        return order

    reads: list[EnvRead] = []
    seen: set[EnvRead] = set()
    dynamic: list[DynamicRead] = []
    for cls in classes:
        if id(cls) not in settings:
            continue
        chain = lineage(cls)
        setting = {key: _first_set(chain, key) for key in ("env_prefix", "case_sensitive")}
        fields: dict[str, tuple[ClassInfo, SettingsField]] = {}
        for owner in reversed(chain):  # a subclass's field replaces its base's
            for settings_field in owner.fields:
                fields[settings_field.name] = (owner, settings_field)
        if not fields:
            continue
        prefix, case_sensitive = setting["env_prefix"], setting["case_sensitive"]
        if isinstance(prefix, _Dynamic) or isinstance(case_sensitive, _Dynamic):
            unknown = prefix if isinstance(prefix, _Dynamic) else case_sensitive
            assert isinstance(unknown, _Dynamic)
            dynamic.append(
                DynamicRead(
                    cls.path,
                    cls.line,
                    f"{cls.name}: {unknown.key}={unknown.expression}",
                    f"{unknown.key} is not a literal: the variables of its {len(fields)} fields cannot be named",
                )
            )
            continue
        sensitive = bool(case_sensitive)
        for owner, settings_field in fields.values():
            # Named after the class that declares the field: a subclass that only inherits it
            # reads the same variable at the same line, unless its own env_prefix renames it.
            form = f"{owner.name}.{settings_field.name}"
            if settings_field.dynamic_alias is not None:
                dynamic.append(
                    DynamicRead(
                        owner.path, settings_field.line, form, f"alias {settings_field.dynamic_alias} is not a literal"
                    )
                )
                continue
            if settings_field.env_names is not None:
                names = settings_field.env_names  # an alias is the whole name: env_prefix does not apply
            else:
                names = (f"{prefix or ''}{settings_field.name}",)
            names = tuple(dict.fromkeys(n if sensitive else n.upper() for n in names))
            for name in names:
                read = EnvRead(
                    name,
                    owner.path,
                    settings_field.line,
                    form,
                    settings_field.fallback,
                    case_sensitive=sensitive,
                    alternatives=names,
                )
                if read not in seen:
                    seen.add(read)
                    reads.append(read)
    return reads, dynamic


@dataclass(frozen=True)
class _Dynamic:
    key: str
    expression: str


def _first_set(chain: Sequence[ClassInfo], key: str) -> str | bool | _Dynamic | None:
    for cls in chain:
        if key in cls.dynamic_config:
            return _Dynamic(key, cls.dynamic_config[key])
        if key in cls.config:
            return cls.config[key]
    return None


# --------------------------------------------------------------------------- #
# The tree (raises CannotCheck: exit 2)
# --------------------------------------------------------------------------- #


def _is_test_file(name: str) -> bool:
    return name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")


def _skip_reason(directory: os.DirEntry[str], include_tests: bool) -> str | None:
    if directory.name in SKIPPED_DIRECTORIES:
        return directory.name
    if not include_tests and directory.name in TEST_DIRECTORIES:
        return "tests directories"
    if os.path.lexists(os.path.join(directory.path, "pyvenv.cfg")):
        return "virtualenvs"
    return None


def _read_bounded(path: str, limit: int) -> bytes | None:
    """At most `limit` bytes of a regular file, never through a symlink; None: too large.

    O_NOFOLLOW: a file swapped for a symlink after the walk saw it is refused,
    not followed. O_NONBLOCK: a FIFO named *.py cannot hang the tool.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise OSError(f"{path} is not a regular file")
        if status.st_size > limit:
            return None
        data = handle.read(limit + 1)
    return None if len(data) > limit else data


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def scan_tree(
    root: Path,
    *,
    include_tests: bool = False,
    max_file_bytes: int | None = None,
    max_python_files: int | None = None,
    max_entries: int | None = None,
) -> Scan:
    """Every environment read in the Python files under `root` (limits: the module's constants)."""
    max_file_bytes = MAX_FILE_BYTES if max_file_bytes is None else max_file_bytes
    max_python_files = MAX_PYTHON_FILES if max_python_files is None else max_python_files
    max_entries = MAX_DIRECTORY_ENTRIES if max_entries is None else max_entries
    try:
        is_directory = stat.S_ISDIR(os.stat(root).st_mode)
    except FileNotFoundError:
        raise CannotCheck(
            f"{root} does not exist: pass the directory of the application's source (e.g. its src/)"
        ) from None
    except OSError as error:
        raise CannotCheck(f"cannot read {root}: {error.strerror or error}") from None
    if not is_directory:
        raise CannotCheck(f"{root} is not a directory: pass the directory of the application's source (e.g. its src/)")
    # The directory named on the command line may itself be a symlink; nothing under it is followed.
    real_root = os.path.realpath(root)
    try:
        os.scandir(real_root).close()
    except OSError as error:
        raise CannotCheck(f"cannot list {root}: {error.strerror or error}") from None

    scan = Scan(root=str(root))
    file_scans: list[FileScan] = []
    entries_seen = 0
    pending = [real_root]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            relative = os.path.relpath(directory, real_root).replace(os.sep, "/")
            scan.problems.append(
                Problem(
                    "app.unlisted",
                    relative + "/",
                    f"cannot list this directory ({error.strerror or error}): the code in it is not checked",
                    "run appcheck as a user who may read the whole tree",
                )
            )
            continue
        entries_seen += len(entries)
        if entries_seen > max_entries:
            raise CannotCheck(
                f"{root} holds more than {max_entries} files and directories: is it the application's "
                "source tree? pass its src/ directory"
            )
        subdirectories = []
        for entry in entries:
            relative = os.path.relpath(entry.path, real_root).replace(os.sep, "/")
            try:
                kind = _entry_kind(entry)
            except OSError as error:  # changed or removed while we walk
                file_scans.append(FileScan(relative, problems=(_unreadable(relative, error),)))
                continue
            if kind == "symlink":
                _symlink(entry, relative, real_root, scan)
            elif kind == "directory":
                reason = _skip_reason(entry, include_tests)
                if reason:
                    scan.skipped[reason] += 1
                else:
                    subdirectories.append(entry.path)
            elif kind == "file" and entry.name.endswith(".py"):
                if not include_tests and _is_test_file(entry.name):
                    scan.skipped["test files"] += 1
                    continue
                scan.files_scanned += 1
                if scan.files_scanned > max_python_files:
                    raise CannotCheck(
                        f"{root} holds more than {max_python_files} Python files: is it the application's "
                        "source tree? pass its src/ directory"
                    )
                file_scans.append(_scan_file(entry.path, relative, max_file_bytes))
        pending.extend(reversed(subdirectories))

    classes: list[ClassInfo] = []
    for file_scan in file_scans:
        scan.reads.extend(file_scan.reads)
        scan.dynamic.extend(file_scan.dynamic)
        scan.problems.extend(file_scan.problems)
        classes.extend(file_scan.classes)
    field_reads, field_dynamic = settings_reads(classes)
    scan.reads.extend(field_reads)
    scan.dynamic.extend(field_dynamic)
    return scan


def _entry_kind(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return "symlink"
    if entry.is_dir(follow_symlinks=False):
        return "directory"
    # FIFOs, sockets and devices are "other": opening one could block or read for ever.
    return "file" if entry.is_file(follow_symlinks=False) else "other"


def _symlink(entry: os.DirEntry[str], relative: str, real_root: str, scan: Scan) -> None:
    try:
        target = os.path.realpath(entry.path)
    except (OSError, RuntimeError, ValueError):
        target = ""
    if target and _within(target, real_root):
        # Its target is scanned where it lives (a loop back into the tree included).
        scan.skipped["symlinks inside the tree"] += 1
        return
    scan.problems.append(
        Problem(
            "app.symlink_outside",
            relative,
            "a symlink out of the tree (or a broken one): not followed, so the code it leads to is not checked",
            "if that code is part of the application, run appcheck on it too",
        )
    )


def _scan_file(path: str, relative: str, max_bytes: int) -> FileScan:
    try:
        data = _read_bounded(path, max_bytes)
    except OSError as error:
        return FileScan(relative, problems=(_unreadable(relative, error),))
    if data is None:
        return FileScan(
            relative,
            problems=(
                Problem(
                    "app.too_large",
                    relative,
                    f"larger than {max_bytes // (1024 * 1024)} MB, not read: the variables it reads are not checked",
                    "a Python file that large is generated or data: check by hand whether it reads the environment",
                ),
            ),
        )
    return scan_source(data, relative)


def _unreadable(relative: str, error: OSError) -> Problem:
    return Problem(
        "app.unreadable",
        relative,
        f"cannot be read ({error.strerror or error}): the variables it reads are not checked",
        "make it readable to the user running appcheck",
    )


# --------------------------------------------------------------------------- #
# The comparison
# --------------------------------------------------------------------------- #

_STATUS_ORDER = {Status.FAIL: 0, Status.WARN: 1, Status.OK: 2}
_AS = {SECRET: "a secret", PLAIN: "a plain setting", DERIVED: "a setting the program derives"}


class _Lookup:
    """Provided and not_provided names, exactly or (for case-insensitive reads) ignoring case."""

    def __init__(self, provided: Mapping[str, Provision], reasons: Mapping[str, str]) -> None:
        self.provided = provided
        self.reasons = reasons
        self.provided_upper = {name.upper(): p for name, p in provided.items()}
        self.reasons_upper = {name.upper(): r for name, r in reasons.items()}

    def provision(self, name: str, case_sensitive: bool) -> Provision | None:
        return self.provided.get(name) or (None if case_sensitive else self.provided_upper.get(name.upper()))

    def reason(self, name: str, case_sensitive: bool) -> str | None:
        return self.reasons.get(name) or (None if case_sensitive else self.reasons_upper.get(name.upper()))

    def is_read(self, name: str, reads: Iterable[EnvRead]) -> bool:
        return any(r.name == name or (not r.case_sensitive and r.name.upper() == name.upper()) for r in reads)


def _sites(reads: Iterable[EnvRead]) -> str:
    parts = []
    for read in sorted(reads, key=lambda r: (r.path, r.line)):
        detail = read.form + (f", or {' or '.join(read.others)}" if read.others else "")
        parts.append(f"{read.site} ({detail})")
    return ", ".join(dict.fromkeys(parts))


def compare(
    scan: Scan,
    contract: ServiceContract,
    stack_provided: Mapping[str, Provision] | None = None,
    stack: str | None = None,
) -> list[Result]:
    """One row per variable read or provided, per dynamic read and per unchecked file; failures first."""
    svc = contract.key
    lookup = _Lookup(
        {**(stack_provided or {}), **provided_by_contract(contract)},
        {entry.env_var: entry.reason for entry in contract.not_provided},
    )
    rows: list[tuple[tuple, Result]] = []

    by_variable: dict[str, list[EnvRead]] = defaultdict(list)
    for read in scan.reads:
        by_variable[read.name].append(read)
    for name, reads in by_variable.items():
        rows.append(((name,), _variable_row(name, reads, lookup, svc, stack)))

    for name, provision in lookup.provided.items():
        if not lookup.is_read(name, scan.reads):
            rows.append(((name,), _unread_row(name, provision, svc, stack, scan)))

    for dynamic in scan.dynamic:
        rows.append(
            (
                (dynamic.path, dynamic.line),
                warn(
                    "app.dynamic_read",
                    dynamic.site,
                    f"dynamic read, cannot tell which variable: `{dynamic.expression}` ({dynamic.why})",
                    f"read the code: every variable it can read must be provided to {svc} by the contract "
                    "or listed in its not_provided, and appcheck cannot see which ones those are",
                ),
            )
        )
    for problem in scan.problems:
        rows.append(((problem.subject,), warn(problem.check, problem.subject, problem.finding, problem.fix)))

    rows.sort(key=lambda row: (_STATUS_ORDER[row[1].status], row[1].check, row[0]))
    return [result for _, result in rows]


def _variable_row(name: str, reads: list[EnvRead], lookup: _Lookup, svc: str, stack: str | None) -> Result:
    for read in reads:
        provision = lookup.provision(name, read.case_sensitive)
        if provision is not None:
            return ok(
                "app.provided", name, f"read at {_sites(reads)}; provided as {_AS[provision.kind]}: {provision.where}"
            )
    for read in reads:
        reason = lookup.reason(name, read.case_sensitive)
        if reason is not None:
            return ok("app.not_provided", name, f"read at {_sites(reads)}; deliberately not provided: {reason}")

    def provided_alternative(read: EnvRead) -> str | None:
        return next((other for other in read.others if lookup.provision(other, read.case_sensitive)), None)

    unresolved = [read for read in reads if provided_alternative(read) is None]
    if not unresolved:
        alternatives = sorted({provided_alternative(read) or "" for read in reads})
        return ok(
            "app.alternative_provided",
            name,
            f"read at {_sites(reads)}; not provided itself, but the code falls back to "
            f"{' / '.join(alternatives)}, which is provided",
        )

    worst = min(unresolved, key=lambda r: _FALLBACK_SEVERITY[r.fallback]).fallback
    without_default = [r for r in unresolved if r.fallback is Fallback.NONE]
    presence = [r for r in unresolved if r.fallback is Fallback.PRESENCE]
    with_default = [r for r in unresolved if r.fallback is Fallback.DEFAULT]
    found = []
    if without_default:
        found.append(f"with no default at {_sites(without_default)}")
    if with_default:
        found.append(f"with an in-code default at {_sites(with_default)}")
    if presence:
        found.append(f"only tested for presence at {_sites(presence)}")
    where = "; ".join(found)
    if worst is Fallback.NONE:
        finding = (
            f"the application reads {name} {where}, and the infrastructure does not provide it to {svc}: "
            "unset, that code gets None or fails (the HUGGINGFACE_API_KEY incident's case)"
        )
        return fail("app.missing", name, finding, _missing_fix(name, svc, stack, has_default=False))
    finding = (
        f"the application reads {name} {where}, and the infrastructure does not provide it to {svc}: "
        "the deployed service runs on the code's default"
    )
    return fail("app.missing_with_default", name, finding, _missing_fix(name, svc, stack, has_default=True))


def _missing_fix(name: str, svc: str, stack: str | None, *, has_default: bool) -> str:
    not_needed = (
        f"if the deployed service does without it{' (the default is right for it)' if has_default else ''}, add "
        f'NotProvided("{name}", "<why>") to the {svc} contract\'s not_provided'
    )
    if looks_secret(name):
        fix = (
            f"if the deployed service needs it, add a SecretRequirement for {name} to the {svc} contract's "
            f"secrets in core/contract.py (it looks like a credential: never a plain setting) and configure "
            f"{secret_config_key(svc, name)} in each stack; {not_needed}"
        )
    else:
        fix = (
            f'if the deployed service needs it, add SettingRequirement("{name}", "<purpose>") to the {svc} '
            f"contract's settings in core/contract.py and set {setting_config_key(svc, name)} in each stack; "
            f"{not_needed}"
        )
    if stack is None:
        fix += "; if one stack sets it, rerun with --stack <stack>"
    return fix


def _unread_row(name: str, provision: Provision, svc: str, stack: str | None, scan: Scan) -> Result:
    unless = (
        f" by name (it may be one of the {len(scan.dynamic)} dynamic reads: {', '.join(d.site for d in scan.dynamic)})"
        if scan.dynamic
        else ""
    )
    if provision.source == "contract":
        return warn(
            "app.unread",
            name,
            f"the infrastructure provides {name} to {svc} (as {_AS[provision.kind]}) but no code under "
            f"{scan.root} reads it{unless}",
            f"check the dynamic reads and what runs outside this tree (the image's CMD, a library); if nothing "
            f"reads it, remove it from the {svc} contract in core/contract.py",
        )
    key = secret_config_key(svc, name) if provision.kind == SECRET else setting_config_key(svc, name)
    return warn(
        "app.unread",
        name,
        f"stack {stack} sets {name} for {svc} but no code under {scan.root} reads it{unless}",
        f"if nothing reads it, remove {key} from Pulumi.{stack}.yaml",
    )


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


def check(
    source: Path, service: str, stack: str | None = None, include_tests: bool = False, project_dir: Path | None = None
) -> Report:
    contract = contract_for(service)
    stack_provided = provided_by_stack(stack_service_settings(stack, service, project_dir), stack) if stack else None
    scan = scan_tree(source, include_tests=include_tests)
    title = f"appcheck {source} against the {service} contract" + (f" and stack {stack}" if stack else "")
    report = Report(title=title)
    report.extend(compare(scan, contract, stack_provided, stack))
    report.notes.append(
        f"{source}: {scan.files_scanned} Python files scanned, {len(scan.reads)} reads of "
        f"{len(scan.variables)} variables, {len(scan.dynamic)} dynamic reads"
    )
    if scan.skipped:
        skipped = ", ".join(f"{reason} ×{count}" for reason, count in sorted(scan.skipped.items()))
        tests_hint = " (--include-tests scans tests)" if {"tests directories", "test files"} & set(scan.skipped) else ""
        report.notes.append(f"not scanned: {skipped}{tests_hint}")
    unread_not_provided = sorted(
        entry.env_var
        for entry in contract.not_provided
        if entry.env_var.upper() not in {n.upper() for n in scan.variables}
    )
    if unread_not_provided:
        report.notes.append(
            f"the {service} contract's not_provided lists variables this code does not read "
            f"(envcheck judges those against .env.example): {', '.join(unread_not_provided)}"
        )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.appcheck",
        description="List every environment variable an application's Python source reads and compare "
        "them with what the infrastructure provides.",
    )
    parser.add_argument("source", type=Path, help="the application's source directory (e.g. its src/)")
    parser.add_argument(
        "--service", default="api", help=f"contract to check against: {', '.join(sorted(CONTRACTS))} (default: api)"
    )
    parser.add_argument("--stack", help="also count what Pulumi.<stack>.yaml gives the service")
    parser.add_argument(
        "--include-tests", action="store_true", help="also scan tests (tests/, test/, test_*.py, conftest.py)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    return run_tool(lambda: emit(check(args.source, args.service, args.stack, args.include_tests), as_json=args.json))


if __name__ == "__main__":
    sys.exit(main())
