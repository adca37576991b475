"""appcheck: the environment variables an application's source reads, against the contract.

Each test writes a small application tree in tmp_path and reads the result the
way on-call would: which variable, at which file:line, which status, which fix.
The application is never imported: a module that would leave a mark when run
proves it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.contract import API, CONTRACTS
from ops import appcheck
from ops.appcheck import Fallback, Scan, compare, scan_source, scan_tree, settings_reads
from ops.envcheck import provided_by_contract
from ops.report import EXIT_CANNOT_CHECK, EXIT_FINDINGS, EXIT_OK, CannotCheck, Status
from tests.helpers import INCIDENT, INCIDENT_SERVICE, stack_only_settings


@pytest.fixture(autouse=True)
def no_step_summary(monkeypatch):
    # emit() appends to $GITHUB_STEP_SUMMARY when CI sets it; tests must not.
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def block(text: str) -> str:
    """A triple-quoted module: dedented, its first line the one after the opening quotes."""
    return textwrap.dedent(text).removeprefix("\n")


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Files under root, written as given; returns root."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def reads_by_name(scan: Scan) -> dict[str, list[tuple[str, Fallback]]]:
    found: dict[str, list[tuple[str, Fallback]]] = {}
    for read in sorted(scan.reads, key=lambda r: (r.path, r.line)):
        found.setdefault(read.name, []).append((read.site, read.fallback))
    return found


def scan_one(tmp_path: Path, source: str, path: str = "pkg/module.py") -> Scan:
    return scan_tree(write_tree(tmp_path / "app", {path: source}))


def run_cli(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = appcheck.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(capsys, *args: str | Path) -> tuple[int, dict[str, dict]]:
    """Run with --json; the result rows by subject."""
    code, out, _ = run_cli(capsys, *args, "--json")
    return code, {r["subject"]: r for r in json.loads(out)["results"]}


def reading_everything_provided(contract=API) -> str:
    """A module that reads exactly what the contract provides, each without a default."""
    names = list(provided_by_contract(contract))
    return "import os\n" + "".join(f'{name.lower()} = os.environ["{name}"]\n' for name in names)


# --------------------------------------------------------------------------- #
# Each form of read, with its file:line
# --------------------------------------------------------------------------- #

READ_FORMS = [
    ('import os\n\nvalue = os.getenv("X")\n', Fallback.NONE),
    ('import os\n\nvalue = os.getenv("X", "fallback")\n', Fallback.DEFAULT),
    ('import os\n\nvalue = os.getenv("X", default="fallback")\n', Fallback.DEFAULT),
    ('import os\n\nvalue = os.getenv("X", None)\n', Fallback.NONE),
    ('import os\n\nvalue = os.environ.get("X")\n', Fallback.NONE),
    ('import os\n\nvalue = os.environ.get("X", "")\n', Fallback.DEFAULT),
    ('import os\n\nvalue = os.environ["X"]\n', Fallback.NONE),
    ('import os\n\nvalue = os.environ.setdefault("X", "v")\n', Fallback.DEFAULT),
    ('import os\n\nif "X" in os.environ:\n    pass\n', Fallback.PRESENCE),
    ('import os\n\nmissing = "X" not in os.environ\n', Fallback.PRESENCE),
    ('from os import environ\n\nvalue = environ.get("X")\n', Fallback.NONE),
    ('from os import environ\n\nvalue = environ["X"]\n', Fallback.NONE),
    ('from os import environ as env\n\nvalue = env.get("X", "1")\n', Fallback.DEFAULT),
    ('from os import getenv\n\nvalue = getenv("X")\n', Fallback.NONE),
    ('from os import getenv as read\n\nvalue = read("X", "1")\n', Fallback.DEFAULT),
    ('from os import *\n\nvalue = getenv("X")\n', Fallback.NONE),
    ('from os import *\n\nvalue = environ["X"]\n', Fallback.NONE),
    ('import os as system\n\nvalue = system.environ["X"]\n', Fallback.NONE),
    ('import os.path\n\nvalue = os.getenv("X")\n', Fallback.NONE),
    ('import os\n\nvalue = os.getenv(f"X")\n', Fallback.NONE),  # an f-string without fields is a literal
    ('import os\n\nvalue = os.getenv(\n    "X",\n)\n', Fallback.NONE),  # the line is the call's
]


@pytest.mark.parametrize(
    ("source", "fallback"),
    READ_FORMS,
    ids=[next(line for line in s.splitlines() if "X" in line).strip() for s, _ in READ_FORMS],
)
def test_each_read_form_is_found_at_its_file_and_line(tmp_path, source, fallback):
    scan = scan_one(tmp_path, source)
    assert reads_by_name(scan) == {"X": [("pkg/module.py:3", fallback)]}
    assert scan.dynamic == [] and scan.problems == []


@pytest.mark.parametrize(
    "source",
    [
        'def app(environ, start):\n    return environ.get("HTTP_HOST")\n',  # WSGI's environ, not os.environ
        'value = getenv("X")\n',  # not os.getenv: nothing imported it
        'import os\nos.environ["X"] = "set, not read"\ndel os.environ["Y"]\n',
        'settings = {}\nvalue = settings.get("X")\n',
        'import os\nvalue = os.path.join("X")\n',
    ],
)
def test_what_is_not_a_read_of_the_environment(tmp_path, source):
    scan = scan_one(tmp_path, source)
    assert scan.reads == [] and scan.dynamic == []


def test_reads_in_several_files_keep_their_own_paths(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "a.py": 'import os\nA = os.getenv("SHARED")\n',
            "deep/er/b.py": '\n\nimport os\nB = os.environ["SHARED"]\n',
        },
    )
    assert reads_by_name(scan_tree(root))["SHARED"] == [
        ("a.py:2", Fallback.NONE),
        ("deep/er/b.py:4", Fallback.NONE),
    ]


def test_a_nested_default_makes_the_names_alternatives(tmp_path):
    # config.py of the incident's application: os.getenv("DB_HOST", os.getenv("DATABASE_HOST", default))
    scan = scan_one(tmp_path, 'import os\nhost = os.getenv("DB_HOST", os.getenv("DATABASE_HOST", "localhost"))\n')
    by_name = {r.name: r for r in scan.reads}
    assert set(by_name) == {"DB_HOST", "DATABASE_HOST"}
    assert all(r.alternatives == ("DB_HOST", "DATABASE_HOST") and r.fallback is Fallback.DEFAULT for r in scan.reads)
    # WHEN the contract provides only the inner name THEN the outer one is satisfied by it
    found = {r.subject: r for r in compare(scan, API)}
    assert (found["DB_HOST"].check, found["DB_HOST"].status) == ("app.alternative_provided", Status.OK)
    assert found["DATABASE_HOST"].check == "app.provided"


# --------------------------------------------------------------------------- #
# pydantic-settings
# --------------------------------------------------------------------------- #


def test_settings_fields_are_upper_cased_variables_with_their_defaults(tmp_path):
    scan = scan_one(
        tmp_path,
        block(
            """
        from typing import ClassVar, Optional
        from pydantic import Field
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            api_host: str = "0.0.0.0"
            api_token: str
            database_password: Optional[str] = None
            workers: int = Field(4, description="uvicorn workers")
            region: str = Field(...)
            origins: list[str] = Field(default_factory=list)
            model_config = {"extra": "ignore"}
            instances: ClassVar[int] = 0
            _cache: dict = {}

            @property
            def computed(self) -> str:
                return self.api_host
        """
        ),
    )
    assert reads_by_name(scan) == {
        "API_HOST": [("pkg/module.py:6", Fallback.DEFAULT)],
        "API_TOKEN": [("pkg/module.py:7", Fallback.NONE)],
        "DATABASE_PASSWORD": [("pkg/module.py:8", Fallback.NONE)],  # None is no default
        "WORKERS": [("pkg/module.py:9", Fallback.DEFAULT)],
        "REGION": [("pkg/module.py:10", Fallback.NONE)],  # Field(...) is required
        "ORIGINS": [("pkg/module.py:11", Fallback.DEFAULT)],
    }
    assert {r.form for r in scan.reads} >= {"Settings.api_host", "Settings.region"}


@pytest.mark.parametrize(
    "config",
    [
        'model_config = SettingsConfigDict(env_prefix="HOKUSAI_", env_file=".env")',
        'model_config = {"env_prefix": "HOKUSAI_"}',
        'class Config:\n        env_prefix = "HOKUSAI_"\n        env_file = ".env"',
    ],
    ids=["SettingsConfigDict", "dict", "class Config"],
)
def test_env_prefix_is_honoured_however_it_is_configured(tmp_path, config):
    source = (
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n"
        f"class Settings(BaseSettings):\n    {config}\n    api_port: int = 8001\n"
    )
    assert set(reads_by_name(scan_one(tmp_path, source))) == {"HOKUSAI_API_PORT"}


def test_env_prefix_as_a_class_keyword(tmp_path):
    source = (
        'from pydantic_settings import BaseSettings\nclass S(BaseSettings, env_prefix="APP_"):\n    port: int = 1\n'
    )
    assert set(reads_by_name(scan_one(tmp_path, source))) == {"APP_PORT"}


def test_aliases_name_the_variable_and_ignore_the_prefix(tmp_path):
    scan = scan_one(
        tmp_path,
        block(
            """
        from typing import Annotated
        from pydantic import AliasChoices, AliasPath, Field
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_")
            token: str = Field(alias="hf_token")
            redis: str = Field("localhost", validation_alias=AliasChoices("REDIS_URL", "REDIS_HOST"))
            first_host: str = Field(validation_alias=AliasPath("HOSTS", 0))
            legacy: str = Field("x", env="LEGACY_NAME")
            annotated: Annotated[str, Field(alias="ANNOTATED_NAME")] = "a"
            plain: int = 0
        """
        ),
    )
    found = {r.name: r for r in scan.reads}
    assert set(found) == {"HF_TOKEN", "REDIS_URL", "REDIS_HOST", "HOSTS", "LEGACY_NAME", "ANNOTATED_NAME", "APP_PLAIN"}
    assert found["HF_TOKEN"].fallback is Fallback.NONE and found["HF_TOKEN"].line == 7
    assert found["REDIS_URL"].alternatives == ("REDIS_URL", "REDIS_HOST")
    assert found["REDIS_HOST"].fallback is Fallback.DEFAULT
    assert found["ANNOTATED_NAME"].fallback is Fallback.DEFAULT


def test_case_sensitive_settings_keep_the_name_as_written(tmp_path):
    scan = scan_one(
        tmp_path,
        block(
            """
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class Settings(BaseSettings):
            model_config = SettingsConfigDict(case_sensitive=True)
            huggingface_api_key: str
        """
        ),
    )
    (read,) = scan.reads
    assert (read.name, read.case_sensitive) == ("huggingface_api_key", True)
    # HUGGINGFACE_API_KEY in the task definition does not satisfy a case-sensitive lower-case field
    found = {r.subject: r for r in compare(scan, API)}
    assert found["huggingface_api_key"].check == "app.missing"
    assert found["HUGGINGFACE_API_KEY"].check == "app.unread"


def test_a_case_insensitive_field_matches_the_provided_name_whatever_its_case(tmp_path):
    source = "from pydantic_settings import BaseSettings\nclass S(BaseSettings):\n    HuggingFace_Api_Key: str\n"
    found = {r.subject: r for r in compare(scan_one(tmp_path, source), API)}
    assert found["HUGGINGFACE_API_KEY"].check == "app.provided"


def test_settings_classes_inherit_fields_and_config_across_files(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "base.py": block(
                """
                import pydantic_settings as ps

                class AppSettings(ps.BaseSettings):
                    model_config = ps.SettingsConfigDict(env_prefix="APP_")
                    name: str
                """
            ),
            "api/settings.py": block(
                """
                from base import AppSettings

                class ApiSettings(AppSettings):
                    port: int = 8001
                """
            ),
            "models.py": block(
                """
                from pydantic import BaseModel
                from pydantic_settings import BaseSettings as Configured

                class Request(BaseModel):
                    inputs: dict

                class Other(Configured):
                    debug: bool = False
                """
            ),
        },
    )
    assert reads_by_name(scan_tree(root)) == {
        "APP_NAME": [("base.py:5", Fallback.NONE)],
        "APP_PORT": [("api/settings.py:4", Fallback.DEFAULT)],
        "DEBUG": [("models.py:8", Fallback.DEFAULT)],
    }


# --------------------------------------------------------------------------- #
# Dynamic reads: warned with file:line, never dropped
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "line",
    [
        "value = os.getenv(name)",
        'value = os.getenv(f"{name}_URL")',
        'value = os.environ[prefix + "_KEY"]',
        "value = os.environ.get(*names)",
        "value = os.getenv()",
        'value = os.getenv("BAD NAME")',
        "value = {k: v for k, v in os.environ.items()}",
        "value = [k for k in os.environ if k.startswith(prefix)]",
    ],
)
def test_a_read_whose_name_is_not_a_literal_is_a_dynamic_warning(tmp_path, line):
    scan = scan_one(tmp_path, f"import os\nname = prefix = names = 'x'\n{line}\n")
    (dynamic,) = scan.dynamic
    assert dynamic.site == "pkg/module.py:3" and scan.reads == []
    (row,) = compare(scan, dataclasses.replace(API, secrets=(), settings=(), dependencies=(), not_provided=()))
    assert (row.check, row.status, row.subject) == ("app.dynamic_read", Status.WARN, "pkg/module.py:3")
    assert "cannot tell" in row.finding


def test_a_dynamic_inner_default_is_reported_once(tmp_path):
    scan = scan_one(tmp_path, 'import os\nvalue = os.getenv("A", os.getenv(other))\n')
    assert [r.name for r in scan.reads] == ["A"] and len(scan.dynamic) == 1


def test_an_env_prefix_computed_at_run_time_is_a_dynamic_warning(tmp_path):
    scan = scan_one(
        tmp_path,
        block(
            """
        import os
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix=os.environ["STAGE"] + "_")
            port: int = 1
            key: str = Field(alias=KEY_NAME)
        """
        ),
    )
    assert [r.name for r in scan.reads] == ["STAGE"]
    (dynamic,) = scan.dynamic
    assert dynamic.site == "pkg/module.py:4" and "env_prefix" in dynamic.why and "2 fields" in dynamic.why


def test_a_dynamic_alias_is_a_dynamic_warning(tmp_path):
    source = "from pydantic_settings import BaseSettings\nclass S(BaseSettings):\n    key: str = Field(alias=NAME)\n"
    (dynamic,) = scan_one(tmp_path, source).dynamic
    assert dynamic.site == "pkg/module.py:3" and "alias" in dynamic.why


# --------------------------------------------------------------------------- #
# Files that cannot be read, and the bounds
# --------------------------------------------------------------------------- #


def test_a_file_with_a_syntax_error_is_warned_about_and_the_rest_is_scanned(tmp_path):
    root = write_tree(
        tmp_path / "app", {"broken.py": "def f(:\n    pass\n", "ok.py": 'import os\nos.getenv("STILL_FOUND")\n'}
    )
    scan = scan_tree(root)
    assert set(reads_by_name(scan)) == {"STILL_FOUND"}
    (problem,) = scan.problems
    assert (problem.check, problem.subject) == ("app.unparsed", "broken.py")
    assert "syntax error at line 1" in problem.finding


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'import os\nos.getenv("CAF\xc9")\n', "UTF-8"),  # Latin-1 without a coding line
        (b"\x00\x01\x02\xff\xfe binary", "null bytes"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "null bytes"),
    ],
    ids=["latin-1", "binary", "png"],
)
def test_undecodable_and_binary_files_are_warned_about(tmp_path, content, why):
    scan = scan_tree(write_tree(tmp_path / "app", {"odd.py": content}))
    (problem,) = scan.problems
    assert problem.check == "app.unparsed" and why in problem.finding and scan.reads == []


def test_a_declared_source_encoding_is_honoured_as_python_does(tmp_path):
    content = b'# -*- coding: latin-1 -*-\nimport os\nos.getenv("X")  # caf\xe9\n'
    scan = scan_tree(write_tree(tmp_path / "app", {"legacy.py": content}))
    assert reads_by_name(scan) == {"X": [("legacy.py:3", Fallback.NONE)]} and scan.problems == []


def test_a_file_over_the_size_limit_is_skipped_with_a_warning(tmp_path):
    root = write_tree(tmp_path / "app", {"generated.py": 'import os\nos.getenv("HIDDEN")\n' + "#" * 200})
    scan = scan_tree(root, max_file_bytes=100)
    assert scan.reads == []
    assert [(p.check, p.subject) for p in scan.problems] == [("app.too_large", "generated.py")]


def test_more_python_files_than_the_limit_cannot_be_checked(tmp_path, monkeypatch, capsys):
    root = write_tree(tmp_path / "app", {f"m{i}.py": "" for i in range(4)})
    with pytest.raises(CannotCheck, match="more than 3 Python files"):
        scan_tree(root, max_python_files=3)
    monkeypatch.setattr(appcheck, "MAX_PYTHON_FILES", 3)
    code, out, err = run_cli(capsys, root)
    assert code == EXIT_CANNOT_CHECK and out == "" and "more than 3 Python files" in err


def test_more_directory_entries_than_the_limit_cannot_be_checked(tmp_path):
    root = write_tree(tmp_path / "app", {f"data/{i}.csv": "" for i in range(5)})
    with pytest.raises(CannotCheck, match="more than 4 files and directories"):
        scan_tree(root, max_entries=4)


def test_the_application_is_never_imported_or_run(tmp_path):
    marker = tmp_path / "ran"
    root = write_tree(
        tmp_path / "app",
        {"main.py": f"import os\nopen({str(marker)!r}, 'w').write(os.environ['X'])\nraise SystemExit(3)\n"},
    )
    assert set(reads_by_name(scan_tree(root))) == {"X"}
    assert not marker.exists()


# --------------------------------------------------------------------------- #
# What is walked: symlinks, virtualenvs, VCS, tests
# --------------------------------------------------------------------------- #


def test_symlinks_out_of_the_tree_are_not_followed_but_warned_about(tmp_path):
    outside = write_tree(tmp_path / "outside", {"secret_reader.py": 'import os\nos.getenv("OUTSIDE_ONLY")\n'})
    root = write_tree(tmp_path / "app", {"main.py": 'import os\nos.getenv("INSIDE")\n'})
    (root / "linked_dir").symlink_to(outside, target_is_directory=True)
    (root / "linked_file.py").symlink_to(outside / "secret_reader.py")
    (root / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    scan = scan_tree(root)
    assert set(reads_by_name(scan)) == {"INSIDE"}
    assert sorted((p.check, p.subject) for p in scan.problems) == [
        ("app.symlink_outside", "dangling.py"),
        ("app.symlink_outside", "linked_dir"),
        ("app.symlink_outside", "linked_file.py"),
    ]


def test_symlink_loops_end_and_links_inside_the_tree_are_read_once(tmp_path):
    root = write_tree(tmp_path / "app", {"pkg/main.py": 'import os\nos.getenv("ONCE")\n'})
    (root / "pkg" / "loop").symlink_to(root, target_is_directory=True)
    (root / "self").symlink_to(root / "self")
    (root / "a").symlink_to(root / "b")
    (root / "b").symlink_to(root / "a")
    (root / "alias.py").symlink_to(root / "pkg" / "main.py")
    scan = scan_tree(root)
    assert reads_by_name(scan) == {"ONCE": [("pkg/main.py:2", Fallback.NONE)]}
    assert scan.files_scanned == 1


def test_the_directory_given_may_itself_be_a_symlink(tmp_path):
    real = write_tree(tmp_path / "real", {"m.py": 'import os\nos.getenv("X")\n'})
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    assert reads_by_name(scan_tree(tmp_path / "link")) == {"X": [("m.py:2", Fallback.NONE)]}


def test_virtualenvs_vcs_dependencies_and_tests_are_skipped_by_default(tmp_path):
    read = 'import os\nos.getenv("{}")\n'.format
    root = write_tree(
        tmp_path / "app",
        {
            "app.py": read("APP"),
            ".git/hooks/pre-commit.py": read("GIT"),
            ".venv/lib/python3.11/site-packages/lib.py": read("VENV"),
            "env3/pyvenv.cfg": "home = /usr/bin\n",
            "env3/lib/lib.py": read("OTHER_VENV"),
            "node_modules/x/build.py": read("NODE"),
            "tests/test_app.py": read("TESTS_DIR"),
            "pkg/test/helper.py": read("TEST_DIR"),
            "pkg/test_unit.py": read("TEST_FILE"),
            "pkg/unit_test.py": read("TEST_FILE_SUFFIX"),
            "conftest.py": read("CONFTEST"),
            "pkg/testing.py": read("NOT_A_TEST"),
        },
    )
    assert set(reads_by_name(scan_tree(root))) == {"APP", "NOT_A_TEST"}
    with_tests = scan_tree(root, include_tests=True)
    assert set(reads_by_name(with_tests)) == {
        "APP",
        "NOT_A_TEST",
        "TESTS_DIR",
        "TEST_DIR",
        "TEST_FILE",
        "TEST_FILE_SUFFIX",
        "CONFTEST",
    }


def test_skipped_directories_are_counted_in_the_notes(tmp_path, capsys):
    root = write_tree(tmp_path / "app", {"tests/test_a.py": "", "node_modules/x.py": "", "a.py": ""})
    code, out, _ = run_cli(capsys, root, "--json")
    notes = " ".join(json.loads(out)["notes"])
    assert "node_modules ×1" in notes and "tests directories ×1" in notes and "--include-tests" in notes


# --------------------------------------------------------------------------- #
# Against the contract
# --------------------------------------------------------------------------- #


def test_a_variable_nobody_provides_fails_naming_every_file_and_line_that_reads_it(tmp_path, capsys):
    # GIVEN an application that reads everything the contract provides, plus one unprovided variable
    root = write_tree(
        tmp_path / "app",
        {
            "everything.py": reading_everything_provided(),
            "api/endpoints/model_serving.py": '\n\nimport os\nTOKEN = os.getenv("MODEL_REPO_TOKEN")\n',
            "worker.py": 'import os\nTOKEN = os.environ.get("MODEL_REPO_TOKEN", "public")\n',
        },
    )
    # WHEN checked THEN it is a gap (exit 1), with both places and the fix
    code, found = rows(capsys, root)
    assert code == EXIT_FINDINGS
    row = found["MODEL_REPO_TOKEN"]
    assert (row["check"], row["status"]) == ("app.missing", "FAIL")
    assert "with no default at api/endpoints/model_serving.py:4" in row["finding"]
    assert "with an in-code default at worker.py:2" in row["finding"]
    assert "SecretRequirement" in row["fix"] and 'NotProvided("MODEL_REPO_TOKEN"' in row["fix"]


def test_the_incident_a_secret_read_without_default_that_the_contract_lacks_fails(tmp_path):
    secret = INCIDENT.missing_secret
    scan = scan_one(tmp_path, f'import os\n\nHF = os.getenv("{secret}")\n', "api/endpoints/model_serving.py")
    contract = CONTRACTS[INCIDENT_SERVICE]
    without = dataclasses.replace(contract, secrets=tuple(s for s in contract.secrets if s.env_var != secret))
    row = {r.subject: r for r in compare(scan, without)}[secret]
    assert (row.check, row.status) == ("app.missing", Status.FAIL)
    assert "api/endpoints/model_serving.py:3" in row.finding and "no default" in row.finding


def test_a_gap_read_only_with_defaults_still_fails_but_says_so(tmp_path):
    scan = scan_one(
        tmp_path,
        block(
            """
        import os
        from pydantic_settings import BaseSettings

        TIMEOUT = os.getenv("UPSTREAM_TIMEOUT", "30")
        if "FEATURE_FLAG" in os.environ:
            pass

        class Settings(BaseSettings):
            upstream_timeout: float = 30.0
        """
        ),
    )
    found = {r.subject: r for r in compare(scan, API)}
    timeout, flag = found["UPSTREAM_TIMEOUT"], found["FEATURE_FLAG"]
    assert (timeout.check, timeout.status) == ("app.missing_with_default", Status.FAIL)
    assert "in-code default at pkg/module.py:4 (os.getenv), pkg/module.py:9 (Settings.upstream_timeout)" in (
        timeout.finding
    )
    assert "no default" not in timeout.finding and "runs on the code's default" in timeout.finding
    assert "(the default is right for it)" in timeout.fix
    assert flag.check == "app.missing_with_default" and "only tested for presence at pkg/module.py:5" in flag.finding


def test_a_tree_that_reads_exactly_what_is_provided_passes(tmp_path, capsys):
    root = write_tree(tmp_path / "app", {"main.py": reading_everything_provided()})
    code, found = rows(capsys, root)
    assert code == EXIT_OK
    assert {r["status"] for r in found.values()} == {"ok"}
    assert set(found) == set(provided_by_contract(API))


def test_a_provided_variable_the_code_never_reads_warns(tmp_path, capsys):
    source = reading_everything_provided().replace('redis_auth_token = os.environ["REDIS_AUTH_TOKEN"]\n', "")
    code, found = rows(capsys, write_tree(tmp_path / "app", {"main.py": source}))
    assert code == EXIT_OK
    row = found["REDIS_AUTH_TOKEN"]
    assert (row["check"], row["status"]) == ("app.unread", "warn")
    assert "core/contract.py" in row["fix"]


def test_an_unread_variable_points_at_the_dynamic_reads(tmp_path):
    scan = scan_one(tmp_path, "import os\nfor name in NAMES:\n    os.getenv(name)\n")
    row = {r.subject: r for r in compare(scan, API)}[API.secret_names[0]]
    assert row.check == "app.unread" and "pkg/module.py:3" in row.finding


def test_not_provided_variables_pass_with_their_reason(tmp_path):
    scan = scan_one(tmp_path, 'import os\nos.getenv("AWS_ACCESS_KEY_ID")\n')
    row = {r.subject: r for r in compare(scan, API)}["AWS_ACCESS_KEY_ID"]
    assert (row.check, row.status) == ("app.not_provided", Status.OK)
    assert "task role" in row.finding


def test_failures_come_first_then_warnings(tmp_path):
    scan = scan_one(tmp_path, 'import os\nos.getenv("NEW")\nos.getenv(dynamic)\nos.getenv("DB_PASSWORD")\n')
    statuses = [r.status for r in compare(scan, API)]
    assert statuses == sorted(statuses, key=[Status.FAIL, Status.WARN, Status.OK].index)
    assert statuses[0] is Status.FAIL


STACK_ONLY_SETTINGS = stack_only_settings(API)


@pytest.mark.parametrize("stack,name", STACK_ONLY_SETTINGS)
def test_what_a_stack_sets_counts_with_stack(tmp_path, capsys, stack, name):
    root = write_tree(tmp_path / "app", {"main.py": reading_everything_provided() + f'os.getenv("{name}")\n'})
    code, found = rows(capsys, root)
    assert code == EXIT_FINDINGS and "--stack" in found[name]["fix"]
    code, found = rows(capsys, root, "--stack", stack)
    assert code == EXIT_OK and f"stack {stack}" in found[name]["finding"]


@pytest.mark.parametrize("key", sorted(CONTRACTS))
def test_every_contract_can_be_checked(tmp_path, capsys, key):
    root = write_tree(tmp_path / "app", {"server.py": reading_everything_provided(CONTRACTS[key])})
    code, _, _ = run_cli(capsys, root, "--service", key)
    assert code == EXIT_OK


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda tmp: [tmp / "missing"], "does not exist"),
        (lambda tmp: [write_tree(tmp, {"f.py": ""}) / "f.py"], "is not a directory"),
        (lambda tmp: [tmp, "--service", "worker"], "unknown service 'worker'"),
        (lambda tmp: [tmp, "--stack", "../development"], "is not a stack name"),
        (lambda tmp: [tmp, "--stack", "no-such-stack"], "Pulumi.no-such-stack.yaml does not exist"),
    ],
    ids=["missing", "a-file", "unknown-service", "bad-stack-name", "unknown-stack"],
)
def test_bad_arguments_exit_2_with_a_message_and_no_traceback(tmp_path, capsys, make_args, message):
    code, out, err = run_cli(capsys, *make_args(tmp_path))
    assert code == EXIT_CANNOT_CHECK and out == ""
    assert message in err and "Traceback" not in err


def test_a_missing_argument_is_a_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        appcheck.main([])
    assert exit_.value.code == EXIT_CANNOT_CHECK
    assert "usage:" in capsys.readouterr().err


def test_an_unlistable_directory_is_warned_about_and_the_rest_is_scanned(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "app", {"a.py": 'import os\nos.getenv("A")\n', "locked/b.py": ""})
    real_scandir = os.scandir

    def scandir(path):
        # As for a directory without the x permission (chmod does not stop root, who may run the tests).
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(appcheck.os, "scandir", scandir)
    scan = scan_tree(root)
    assert set(reads_by_name(scan)) == {"A"}
    assert [(p.check, p.subject) for p in scan.problems] == [("app.unlisted", "locked/")]
    assert "Permission denied" in scan.problems[0].finding


def test_json_output_is_clean_and_carries_the_verdict(tmp_path, capsys):
    root = write_tree(tmp_path / "app", {"main.py": 'import os\nos.getenv("NEW")\n'})
    code, out, err = run_cli(capsys, root, "--json")
    report = json.loads(out)
    assert (code, report["exit_code"], report["passed"]) == (EXIT_FINDINGS, EXIT_FINDINGS, False)
    assert {"check", "subject", "status", "finding", "fix"} <= set(report["results"][0])
    assert err == ""


# --------------------------------------------------------------------------- #
# Fuzzing: nothing the tree holds makes the scanner raise
# --------------------------------------------------------------------------- #

NAMES = st.sampled_from(["X", "api_host", "", "A B", "=", "HUGGINGFACE_API_KEY", "é"])
FRAGMENTS = st.one_of(
    st.sampled_from(
        [
            "import os\n",
            "from os import environ, getenv\n",
            "import os as o\n",
            "from pydantic_settings import BaseSettings, SettingsConfigDict\n",
            "from pydantic import Field, AliasChoices, AliasPath\n",
            "class S(BaseSettings):\n",
            "class T(S, env_prefix=P):\n",
            "    model_config = SettingsConfigDict(**base)\n",
            "    model_config = {1: 2, None: 3}\n",
            "    class Config:\n        case_sensitive = maybe\n",
            "    x: int = Field(alias=AliasChoices())\n",
            "    y: Annotated[int, Field(validation_alias=AliasPath())]\n",
            "    z: str = Field(env=[1, 'A'])\n",
            "for k in os.environ: pass\n",
            "os.getenv(*a, **k)\n",
            "if 'A' in 'B' in os.environ: pass\n",
            "(" * 50 + ")" * 50 + "\n",
            "x = " + "-" * 300 + "1\n",
            "x = " + " + ".join(["1"] * 400) + "\n",
        ]
    ),
    NAMES.map(lambda n: f"os.getenv({n!r}, os.environ.get({n!r}, getenv({n!r})))\n"),
    NAMES.map(lambda n: f"    {n or 'f'}: str = Field(alias={n!r})\n"),
    NAMES.map(lambda n: f"environ[{n!r}]; {n!r} in environ\n"),
    st.text(max_size=40),
)


def _scan_everything(data: bytes | str) -> None:
    file_scan = scan_source(data, "fuzzed.py")
    reads, dynamic = settings_reads(list(file_scan.classes) * 2)  # the same class twice: name collisions
    scan = Scan(root="fuzz", reads=[*file_scan.reads, *reads], dynamic=[*file_scan.dynamic, *dynamic])
    scan.problems.extend(file_scan.problems)
    for row in compare(scan, API):
        assert row.status in Status


@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    _scan_everything(data)


@given(st.lists(FRAGMENTS, max_size=12).map("".join))
def test_random_python_source_never_raises(source):
    _scan_everything(source)
    _scan_everything(source.encode("utf-8", "surrogatepass"))


def test_awkward_trees_on_disk_raise_nothing(tmp_path):
    # Awkward trees on disk: a FIFO named *.py, an unreadable file, deep nesting, names with newlines.
    root = write_tree(tmp_path / "app", {"ok.py": "import os\nos.getenv('X')\n", "line\nbreak.py": b"\xff\xfe"})
    os.mkfifo(root / "pipe.py")
    deep = root
    for _ in range(40):
        deep = deep / "d"
    write_tree(deep, {"deep.py": "import os\nos.getenv('DEEP')\n"})
    scan = scan_tree(root)
    assert set(reads_by_name(scan)) == {"X", "DEEP"}
    assert [p.subject for p in scan.problems] == ["line\nbreak.py"]
