"""A seeded moto account, copied rather than seeded again for every test.

Seeding the development estate into moto (synth/fake_estate.py) is 35 AWS calls through
botocore and moto, 0.15-0.5 s; the live-tool tests inject a failure into it, so each needs
a copy of its own. The first test in a process seeds one and keeps a deep copy of every
moto backend the seeding touched; every later test gets a fresh deep copy of those
(about 10 ms) put back into moto: the same resources, identifiers and outputs as the
seed left, and nothing another test changed. All the backends are copied in one go, so
an object two of them share stays one object.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

    from synth.fake_estate import FakeEstate
    from synth.program import Run

# (which of moto's per-service registries, account id, region) -> that region's backend
Backends = dict[tuple[int, str, str], Any]


class SeededCopies:
    """Hands out healthy copies of the estate; call `fake` inside an active `moto.mock_aws()`."""

    def __init__(self) -> None:
        self._registries: list[Any] = []  # moto's BackendDict per service, as the seed used them
        self._backends: Backends | None = None  # as the seed left them; never handed out
        self._outputs: dict[str, Any] = {}
        self._ids: dict[str, str] = {}

    def fake(self, run: Run, session: boto3.Session) -> FakeEstate:
        from moto.core.base_backend import BackendDict

        from synth.fake_estate import FakeEstate, seed

        if self._backends is None:
            fake = seed(run, session=session)
            # The registries that hold an account now are the ones the seed used.
            # (vars: moto declares the class-level list of every registry as an instance attribute.)
            self._registries = list(vars(BackendDict)["_instances"])
            live = {
                (index, account, region): backend
                for index, registry in enumerate(self._registries)
                for account, per_account in registry.items()
                for region, backend in dict.items(per_account)
            }
            self._backends = self._copy(live)
            self._outputs, self._ids = copy.deepcopy(fake.outputs), dict(fake.ids)
            return fake
        for (index, account, region), backend in self._copy(self._backends).items():
            # Indexing creates the account's entry and registers it for moto's reset at the end of the mock.
            dict.__setitem__(self._registries[index][account], region, backend)
        return FakeEstate(
            outputs=copy.deepcopy(self._outputs),
            session=session,
            region=self._outputs["estate"]["region"],
            ids=dict(self._ids),
        )

    def _copy(self, backends: Backends) -> Backends:
        # moto's per-service and per-account dicts are where its handlers look things up,
        # not state: a backend that refers to one must keep referring to the live one.
        keep = {id(registry): registry for registry in self._registries}
        keep |= {id(per_account): per_account for registry in self._registries for per_account in registry.values()}
        return copy.deepcopy(backends, keep)
