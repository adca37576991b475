"""The hand-made nasty inputs, one table per kind: what a previous review found breaking the
tools (tracebacks, hangs), and the classic attacks on each format. Bytes, so encodings are
part of the case."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import PROJECT_DIR

DEV_STACK = (PROJECT_DIR / "Pulumi.development.yaml").read_bytes()
ENV_EXAMPLE = (PROJECT_DIR / "tests" / "ops" / "fixtures" / "api.env.example").read_bytes()


def _in_dev(old: bytes, new: bytes) -> bytes:
    assert old in DEV_STACK, old
    return DEV_STACK.replace(old, new, 1)


def billion_laughs(levels: int = 9, width: int = 9) -> bytes:
    lines = ["a0: &a0 [lol]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)
    ]
    return _in_dev(b"    team: platform\n", "".join(f"    {line}\n" for line in lines).encode())


def nested(levels: int, opener: str = "[", closer: str = "]") -> str:
    return opener * levels + closer * levels


STACK_FILES: dict[str, bytes] = {
    "billion laughs": billion_laughs(),
    "one alias": _in_dev(b"team: platform", b"team: &t platform\n    owner: *t"),
    "merge key": _in_dev(b"team: platform", b"<<: {team: platform}"),
    "utf-16": DEV_STACK.decode().encode("utf-16"),
    "utf-16 without bom": DEV_STACK.decode().encode("utf-16-le"),
    "utf-8 bom": b"\xef\xbb\xbf" + DEV_STACK,
    "latin-1": _in_dev(b"team: platform", "team: caf\xe9".encode("latin-1")),
    "nul byte": _in_dev(b"team: platform", b"team: plat\x00form"),
    "control character": _in_dev(b"team: platform", b"team: \x1b[31m"),
    "deep list": _in_dev(b"team: platform", b"team: " + nested(100_000).encode()),
    "deep mapping": _in_dev(b"team: platform", b"team: " + ("{a: " * 5_000 + "1" + "}" * 5_000).encode()),
    "5000-digit integer": _in_dev(b"cpu: 512", b"cpu: " + b"9" * 5000),
    "19-digit integer": _in_dev(b"cpu: 512", b"cpu: " + b"9" * 19),
    "date value": _in_dev(b"team: platform", b"team: 2025-10-07"),
    "date key": _in_dev(b"team: platform", b"2025-10-07: platform"),
    "binary": _in_dev(b"team: platform", b"team: !!binary aGVsbG8="),
    "set": _in_dev(b"team: platform", b"team: !!set {a, b}"),
    "python object tag": _in_dev(b"team: platform", b"team: !!python/object/apply:os.system [id]"),
    "local tag": _in_dev(b"team: platform", b"team: !vault platform"),
    "integer key": _in_dev(b"team: platform", b"1: platform"),
    "boolean key": _in_dev(b"team: platform", b"on: platform"),
    "null key": _in_dev(b"team: platform", b"~: platform"),
    "list key": _in_dev(b"team: platform", b"? [a]\n    : platform"),
    "integer config key": _in_dev(b"  aws:region: us-east-1", b"  aws:region: us-east-1\n  7: x"),
    "duplicate key": _in_dev(b"team: platform", b"team: platform\n    team: data"),
    "duplicate service": _in_dev(b"      cpu: 512", b"      cpu: 512\n      cpu: 1024"),
    "infinity": _in_dev(b"log_retention_days: 30", b"log_retention_days: .inf"),
    "not a number": _in_dev(b"log_retention_days: 30", b"log_retention_days: .nan"),
    "two documents": DEV_STACK + b"---\nconfig: {}\n",
    "tab indentation": _in_dev(b"    team: platform", b"\tteam: platform"),
    "unclosed flow": _in_dev(b"paths: [/api/*]", b"paths: [/api/*"),
    "unclosed quote": _in_dev(b"team: platform", b'team: "platform'),
    "lone surrogate escape": _in_dev(b"team: platform", b'team: "\\ud800"'),
    "over the size limit": DEV_STACK + b"#" * (256 * 1024),
    "empty": b"",
    "only a comment": b"# nothing\n",
    "a list": b"- config\n",
    "config a list": b"config: [1, 2]\n",
    "config null": b"config:\n",
    "services null": _in_dev(b"  hokusai:services:\n    api:", b"  hokusai:services:\n  hokusai:x:\n    api:"),
    "region a mapping": _in_dev(b"aws:region: us-east-1", b"aws:region: {a: b}"),
    "secure everywhere": _in_dev(b"cpu: 512", b"cpu:\n        secure: v1:abc"),
    "very long key": _in_dev(b"team: platform", b"x" * 100_000 + b": platform"),
    "very long value": _in_dev(b"team: platform", b"team: " + b"x" * 200_000),
    "many keys": _in_dev(b"    team: platform\n", b"".join(b"    k%d: v\n" % i for i in range(10_000))),
}


def dev_outputs(estate: dict[str, Any]) -> dict[str, Any]:
    return {"estate": estate}


def outputs_files(estate: dict[str, Any]) -> dict[str, bytes]:
    """Outputs files built from the rendered `estate` (the development stack's)."""
    good = json.dumps(dev_outputs(estate)).encode()

    def changed(change) -> bytes:
        copy = json.loads(good)
        change(copy["estate"])
        return json.dumps(copy).encode()

    def first_service(estate: dict[str, Any]) -> dict[str, Any]:
        return estate["services"][0]

    return {
        "no services": changed(lambda e: e.update(services=[])),
        "services null": changed(lambda e: e.update(services=None)),
        "services an object": changed(lambda e: e.update(services={"api": e["services"][0]})),
        "service a string": changed(lambda e: e.update(services=["api"])),
        "port null": changed(lambda e: first_service(e).update(container_port=None)),
        "port a string": changed(lambda e: first_service(e).update(container_port="8001")),
        "port a boolean": changed(lambda e: first_service(e).update(container_port=True)),
        "port a float": changed(lambda e: first_service(e).update(container_port=8001.5)),
        "name a number": changed(lambda e: first_service(e).update(service_name=7)),
        "alarm names null": changed(lambda e: first_service(e).update(alarm_names=None)),
        "alarm name a list": changed(lambda e: first_service(e).update(alarm_names=[["x"]])),
        "secret arns a list": changed(lambda e: first_service(e).update(secret_arns=["arn"])),
        "secret arn null": changed(lambda e: first_service(e).update(secret_arns={"X": None})),
        "filters a string": changed(lambda e: first_service(e).update(metric_filters="x")),
        "field missing": changed(lambda e: first_service(e).pop("task_family")),
        "region null": changed(lambda e: e.update(region=None)),
        "stack another": changed(lambda e: e.update(stack="production")),
        "service twice": changed(lambda e: e.update(services=e["services"] * 2)),
        "estate null": b'{"estate": null}',
        "estate a list": b'{"estate": []}',
        "no estate": b'{"other": 1}',
        "a number": b"7",
        "null": b"null",
        "empty": b"",
        "not json": b"estate: {}",
        "truncated": good[: len(good) // 2],
        "deep": b'{"estate": ' + nested(100_000).encode() + b"}",
        "deep within the limit of the parser": b'{"estate": ' + nested(900).encode() + b"}",
        "5000-digit number": good.replace(b'"container_port": 8001', b'"container_port": ' + b"9" * 5000),
        "NaN": good.replace(b'"container_port": 8001', b'"container_port": NaN'),
        "Infinity": good.replace(b'"container_port": 8001', b'"container_port": 1e999'),
        "duplicate key": good.replace(b'"container_port": 8001', b'"container_port": 8001, "container_port": 1'),
        "lone surrogate": good.replace(b'"hokusai-development"', b'"\\ud800"', 1),
        "utf-16": good.decode().encode("utf-16"),
        "utf-8 bom": b"\xef\xbb\xbf" + good,
        "latin-1": good.replace(b'"hokusai-development"', '"caf\xe9"'.encode("latin-1"), 1),
        "over the size limit": good + b" " * (1024 * 1024),
    }


ENV_FILES: dict[str, bytes] = {
    # python-dotenv's inline-comment strip is quadratic in a run of whitespace
    "a long run of blanks": b"A=x" + b" " * 60_000 + b"y\n",
    "a long run of form feeds": b"A=x" + b"\x0c" * 60_000 + b"y\n",
    "many blank runs": (b"A=x" + b" " * 64 + b"y\n") * 900,
    "many lines of =": b"=\n" * 32_000,
    "many variables": b"".join(b"V%d=x\n" % i for i in range(6_000)),
    "many commented variables": b"".join(b"# V%d=x\n" % i for i in range(6_000)),
    "unclosed double quote": b'A="x\nB=1\n' * 10 + b'C="never closed\n',
    "unclosed single quote": b"A='x\n" * 2000,
    "escaped quotes": b'A="\\"\n' * 5000,
    "export only": b"export\nexport \nexport A\n",
    "nul bytes": b"A=x\x00y\nB=\x00\n",
    "control characters": b"A=\x1b[31m\nB=\x07\n",
    "utf-16": ENV_EXAMPLE.decode().encode("utf-16"),
    "utf-8 bom": b"\xef\xbb\xbf" + ENV_EXAMPLE,
    "latin-1": b"A=caf\xe9\n",
    "crlf": ENV_EXAMPLE.replace(b"\n", b"\r\n"),
    "cr only": ENV_EXAMPLE.replace(b"\n", b"\r"),
    "unicode line separators": ENV_EXAMPLE.replace(b"\n", "\u2028".encode()),
    "quoted key": b"'A B'=1\n'unclosed=2\n",
    "interpolation": b"A=${HOME}\nB=${A:-default}\nC=$(id)\n",
    "over the size limit": ENV_EXAMPLE + b"#" * (64 * 1024),
    "empty": b"",
}
