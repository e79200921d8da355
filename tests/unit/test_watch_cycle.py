"""Watcher cycles against an in-process sandbox, one trigger at a time (no file events, no timer).

What the cycles do is asserted on what the sandbox ends up holding.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.client import EsClient
from reconciler.connect import Connection, utc_now
from reconciler.pipeline import Ports
from reconciler.planner import PlanOptions
from reconciler.state import IndexStateStore
from reconciler.target import Target
from reconciler.watch import WatchCommand, Watcher
from reconciler.watch.files import Kind, Trigger
from reconciler.watch.lines import Log
from reconciler.watch.lock import HeldLock
from tests.fixtures.sandbox import make_sandbox_app

pytestmark = pytest.mark.anyio

KEY = "sk-unit-0123456789abcdef"


def completion(inference_id: str, user: str) -> str:
    return (
        f"inference_id: {inference_id}\ntask_type: completion\nservice: openai\n"
        "service_settings:\n  api_key: ${OPENAI_API_KEY}\n  model_id: gpt-4o-mini\n"
        f"task_settings:\n  user: {user}\n"
    )


@dataclass
class Rig:
    watcher: Watcher
    client: EsClient
    http: httpx.AsyncClient
    folder: Path
    output: io.StringIO

    async def users(self) -> dict[str, Any]:
        endpoints = await self.client.list_endpoints()
        return {
            e.inference_id: e.body.get("task_settings", {}).get("user")
            for e in endpoints
            if not e.preconfigured
        }

    async def out_of_band(self, inference_id: str, user: str) -> None:
        update = {"task_settings": {"user": user}}
        response = await self.http.put(
            f"/_inference/completion/{inference_id}/_update", json=update
        )
        assert response.status_code == 200

    def printed(self) -> str:
        return self.output.getvalue()


async def rig(tmp_path: Path, **options: Any) -> AsyncIterator[Rig]:
    folder = tmp_path / "m"
    folder.mkdir()
    app = make_sandbox_app()
    transport = httpx.ASGITransport(app=app)
    plan_options = PlanOptions(prune=options.pop("prune", False))
    command = WatchCommand([str(folder)], Connection(), plan_options, **options)
    output = io.StringIO()
    async with (
        EsClient(Target("http://sandbox"), transport=transport) as client,
        httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http,
    ):
        store = IndexStateStore(client)
        async with store.lock(command="watch") as lease:
            ports = Ports(client, HeldLock(store, lease), {"OPENAI_API_KEY": KEY}, utc_now)
            yield Rig(Watcher(command, ports, Log(output)), client, http, folder, output)
    await app.aclose()


@pytest.fixture
async def heal(tmp_path: Path) -> AsyncIterator[Rig]:
    async for item in rig(tmp_path, prune=True):
        yield item


@pytest.fixture
async def no_heal(tmp_path: Path) -> AsyncIterator[Rig]:
    async for item in rig(tmp_path, heal=False):
        yield item


async def test_a_save_applies_and_a_drift_check_heals(heal: Rig) -> None:
    (heal.folder / "a.yaml").write_text(completion("comp", "alice"))
    await heal.watcher.cycle(Trigger(Kind.START))
    assert await heal.users() == {"comp": "alice"}
    (heal.folder / "a.yaml").write_text(completion("comp", "bob"))
    await heal.watcher.cycle(Trigger(Kind.SAVE, ("m/a.yaml",)))
    assert await heal.users() == {"comp": "bob"}
    await heal.out_of_band("comp", "mallory")
    await heal.watcher.cycle(Trigger(Kind.CHECK))
    assert await heal.users() == {"comp": "bob"}
    assert "changed: m/a.yaml" in heal.printed()
    assert "drift check: Plan: 0 to create, 1 to update in place" in heal.printed()


async def test_an_emptied_or_broken_file_deletes_nothing_even_with_prune(heal: Rig) -> None:
    (heal.folder / "a.yaml").write_text(completion("keep", "alice"))
    (heal.folder / "b.yaml").write_text(completion("also", "alice"))
    await heal.watcher.cycle(Trigger(Kind.START))
    for broken in ("", "inference_id: also\ntask_type: [\n", "inference_id: also\n"):
        (heal.folder / "b.yaml").write_text(broken)
        await heal.watcher.cycle(Trigger(Kind.SAVE, ("m/b.yaml",)))
        assert await heal.users() == {"keep": "alice", "also": "alice"}
    assert heal.printed().count("nothing was planned or changed") == 3
    (heal.folder / "b.yaml").unlink()  # a real removal: prune deletes it
    await heal.watcher.cycle(Trigger(Kind.SAVE, ("m/b.yaml",)))
    assert await heal.users() == {"keep": "alice"}


async def test_a_drift_check_does_not_repeat_the_same_problems(heal: Rig) -> None:
    (heal.folder / "a.yaml").write_text("")
    for _ in range(3):
        await heal.watcher.cycle(Trigger(Kind.CHECK))
    assert heal.printed().count("[manifest.empty-file]") == 1


async def test_quiet_drift_checks_print_once(heal: Rig) -> None:
    (heal.folder / "a.yaml").write_text(completion("comp", "alice"))
    await heal.watcher.cycle(Trigger(Kind.START))
    for _ in range(3):
        await heal.watcher.cycle(Trigger(Kind.CHECK))
    assert heal.printed().count("drift check: no changes") == 1


async def test_no_heal_leaves_drift_alone_but_applies_the_edited_endpoint(no_heal: Rig) -> None:
    (no_heal.folder / "a.yaml").write_text(completion("one", "alice"))
    (no_heal.folder / "b.yaml").write_text(completion("two", "alice"))
    await no_heal.watcher.cycle(Trigger(Kind.START))
    await no_heal.out_of_band("one", "mallory")
    await no_heal.out_of_band("two", "mallory")
    await no_heal.watcher.cycle(Trigger(Kind.CHECK))
    assert await no_heal.users() == {"one": "mallory", "two": "mallory"}
    assert "drift left alone (--no-heal): one" in no_heal.printed()
    (no_heal.folder / "a.yaml").write_text(completion("one", "carol"))
    await no_heal.watcher.cycle(Trigger(Kind.SAVE, ("m/a.yaml",)))
    assert await no_heal.users() == {"one": "carol", "two": "mallory"}


async def test_a_server_error_is_printed_and_the_watcher_carries_on(heal: Rig) -> None:
    (heal.folder / "a.yaml").write_text(completion("comp", "alice"))
    rule = {"method": "GET", "path": "/_inference/_all", "status": 400, "count": 1}
    assert (await heal.http.post("/_sandbox/faults", json=rule)).status_code == 200
    await heal.watcher.cycle(Trigger(Kind.START))
    assert "error:" in heal.printed() and "retrying on the next save or check" in heal.printed()
    await heal.watcher.cycle(Trigger(Kind.CHECK))
    assert await heal.users() == {"comp": "alice"}


async def test_a_blocked_endpoint_is_reported_once_not_on_every_check(heal: Rig) -> None:
    headers = "  headers:\n    X-Team: search\n"  # needs Elasticsearch 9.2; the sandbox is 9.1
    (heal.folder / "a.yaml").write_text(completion("comp", "alice") + headers)
    await heal.watcher.cycle(Trigger(Kind.START))
    for _ in range(3):
        await heal.watcher.cycle(Trigger(Kind.CHECK))
    assert heal.printed().count("! blocked comp") == 2  # the start, then the first check
    assert await heal.users() == {}


async def test_no_heal_says_once_which_drift_it_leaves_alone(no_heal: Rig) -> None:
    (no_heal.folder / "a.yaml").write_text(completion("one", "alice"))
    await no_heal.watcher.cycle(Trigger(Kind.START))
    await no_heal.out_of_band("one", "mallory")
    for _ in range(3):
        await no_heal.watcher.cycle(Trigger(Kind.CHECK))
    assert no_heal.printed().count("drift left alone (--no-heal): one") == 1
    assert "drift check: nothing to apply" in no_heal.printed()


async def test_an_emptied_set_deletes_nothing_even_with_prune(heal: Rig) -> None:
    """Every manifest removed, or only hidden or other files left: the apply rule, not a prune."""
    (heal.folder / "a.yaml").write_text(completion("one", "alice"))
    (heal.folder / "b.yaml").write_text(completion("two", "alice"))
    await heal.watcher.cycle(Trigger(Kind.START))
    (heal.folder / "a.yaml").rename(heal.folder / ".a.yaml")  # hidden now
    (heal.folder / "b.yaml").rename(heal.folder / "b.yaml.bak")
    await heal.watcher.cycle(Trigger(Kind.SAVE, ("m/a.yaml", "m/b.yaml")))
    await heal.watcher.cycle(Trigger(Kind.CHECK))
    assert await heal.users() == {"one": "alice", "two": "alice"}
    printed = heal.printed()
    assert printed.count("[manifest.empty-set]") == 1  # the drift check does not repeat it
    assert f"skipped: {heal.folder / '.a.yaml'} (hidden)" in printed
    assert f"skipped: {heal.folder / 'b.yaml.bak'} (not a .yaml/.yml file)" in printed
    assert "nothing was planned or changed" in printed


async def test_allow_empty_lets_an_emptied_set_prune(tmp_path: Path) -> None:
    async for allowed in rig(tmp_path, prune=True, allow_empty=True):
        (allowed.folder / "a.yaml").write_text(completion("one", "alice"))
        await allowed.watcher.cycle(Trigger(Kind.START))
        assert await allowed.users() == {"one": "alice"}
        (allowed.folder / "a.yaml").unlink()
        await allowed.watcher.cycle(Trigger(Kind.SAVE, ("m/a.yaml",)))
        assert await allowed.users() == {}
        assert "[manifest.empty-set]" not in allowed.printed()


async def test_skipped_files_are_noted_once_and_again_when_they_change(heal: Rig) -> None:
    (heal.folder / "a.yaml").write_text(completion("one", "alice"))
    (heal.folder / "README.md").write_text("notes\n")
    await heal.watcher.cycle(Trigger(Kind.START))
    for _ in range(2):
        await heal.watcher.cycle(Trigger(Kind.CHECK))
    note = f"skipped: {heal.folder / 'README.md'} (not a .yaml/.yml file)"
    assert heal.printed().count(note) == 1
    (heal.folder / "B.YAML").write_text(completion("two", "alice"))  # read: any case
    (heal.folder / ".draft.yaml").write_text(completion("three", "alice"))
    await heal.watcher.cycle(Trigger(Kind.SAVE, ("m/B.YAML", "m/.draft.yaml")))
    assert heal.printed().count(note) == 2
    assert f"skipped: {heal.folder / '.draft.yaml'} (hidden)" in heal.printed()
    assert await heal.users() == {"one": "alice", "two": "alice"}
