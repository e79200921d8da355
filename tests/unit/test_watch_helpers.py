"""The watcher's pure helpers: trigger merging, edit detection, drift split, file filtering."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from pathlib import Path

import pytest

from reconciler.model import Action, Plan, PlannedChange
from reconciler.pipeline import load_manifests
from reconciler.watch import signatures, split_drift
from reconciler.watch.files import (
    Kind,
    Trigger,
    content_digest,
    display_path,
    manifest_filter,
    merge,
    settled,
    watch_roots,
)
from reconciler.watch.lines import Log, invalid_report, plan_summary

COMPLETION = """\
inference_id: {id}
task_type: completion
service: openai
service_settings:
  api_key: ${{OPENAI_API_KEY}}
  model_id: gpt-4o-mini
task_settings:
  user: {user}
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def change(inference_id: str, action: Action = Action.UPDATE, drift: bool = False) -> PlannedChange:
    return PlannedChange(inference_id, "completion", action, "why", drift=drift)


def queue_of(*triggers: Trigger) -> asyncio.Queue[Trigger]:
    queue: asyncio.Queue[Trigger] = asyncio.Queue()
    for trigger in triggers:
        queue.put_nowait(trigger)
    return queue


def test_merge_folds_queued_triggers_and_a_save_wins_over_a_check() -> None:
    queued = queue_of(Trigger(Kind.SAVE, ("a.yaml",)), Trigger(Kind.SAVE, ("b.yaml", "a.yaml")))
    merged = merge(Trigger(Kind.CHECK), queued)
    assert merged == Trigger(Kind.SAVE, ("a.yaml", "b.yaml"))
    assert queued.empty()


def test_merge_keeps_the_start_and_a_lone_check() -> None:
    assert merge(Trigger(Kind.START), queue_of(Trigger(Kind.SAVE, ("a",)))).kind is Kind.START
    assert merge(Trigger(Kind.CHECK), queue_of()).kind is Kind.CHECK


def test_signatures_ignore_where_a_manifest_sits_but_not_what_it_asks(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", COMPLETION.format(id="comp", user="alice"))
    before = signatures(load_manifests([str(tmp_path)]))
    write(
        tmp_path,
        "a.yaml",
        "# a comment moves every line\n" + COMPLETION.format(id="comp", user="alice"),
    )
    assert signatures(load_manifests([str(tmp_path)])) == before
    write(tmp_path, "a.yaml", COMPLETION.format(id="comp", user="bob"))
    assert signatures(load_manifests([str(tmp_path)])) != before


def test_split_drift_keeps_edited_endpoints_and_everything_that_is_not_drift() -> None:
    plan = Plan(
        (
            change("edited", drift=True),
            change("drifted", drift=True),
            change("pending"),
            change("gone", Action.CREATE, drift=True),
        ),
        "9.1.0",
        "now",
    )
    kept, left = split_drift(plan, {"edited"})
    assert [c.inference_id for c in kept.changes] == ["edited", "pending"]
    assert [c.inference_id for c in left] == ["drifted", "gone"]


def test_manifest_filter_takes_manifests_under_the_folders_and_named_files(tmp_path: Path) -> None:
    folder, other = tmp_path / "m", tmp_path / "other"
    folder.mkdir()
    other.mkdir()
    named = write(other, "one.txt", "")
    wanted = manifest_filter([str(folder), str(named)])
    assert wanted(None, str(folder / "a.yaml"))
    assert wanted(None, str(folder / "sub" / "b.yml"))
    assert wanted(None, str(folder / "C.YAML"))  # any case, as `validate` reads it
    assert wanted(None, str(folder / "d.Yml"))
    assert wanted(None, str(named))
    assert not wanted(None, str(folder / "a.yaml.swp"))
    assert not wanted(None, str(folder / ".a.yaml"))  # hidden, as `validate` skips it
    assert not wanted(None, str(folder / ".git" / "x.yaml"))
    assert not wanted(None, str(other / "two.yaml"))


def test_watch_roots_folders_recursively_and_parents_of_files_not(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    named = write(tmp_path / "single", "x.yaml", "")
    roots = watch_roots([str(folder), str(named)])
    assert roots == [((str(folder),), True), ((str(named.parent),), False)]


@pytest.mark.anyio
async def test_settled_sees_a_file_that_is_still_being_written(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "a: 1\n")

    async def rewrite() -> None:
        await asyncio.sleep(0.02)
        path.write_text("a: 2\n")

    before = content_digest([str(tmp_path)])
    results = await asyncio.gather(settled([str(tmp_path)], wait=0.1), rewrite())
    assert results[0] is False
    assert content_digest([str(tmp_path)]) != before
    assert await settled([str(tmp_path)], wait=0.01) is True


def test_invalid_report_is_the_validate_text_and_says_nothing_changed(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "")
    text = invalid_report(load_manifests([str(tmp_path)]))
    assert "a.yaml:1:1: error: file holds no manifest" in text
    assert "[manifest.empty-file]" in text
    assert text.endswith("nothing was planned or changed; fix the files and save again")


def test_plan_summary_of_an_empty_plan_is_short() -> None:
    assert plan_summary(Plan((), "9.1.0", "now")) == "no changes"
    one = Plan((change("comp"),), "9.1.0", "now")
    assert plan_summary(one).startswith("Plan: 0 to create, 1 to update in place")


def test_log_stamps_every_line() -> None:
    stream = io.StringIO()
    Log(stream, clock=lambda: datetime(2026, 1, 1, 9, 8, 7))("one\ntwo\n")
    assert stream.getvalue() == "09:08:07 one\n09:08:07 two\n"


def test_display_path_is_relative_below_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(str(tmp_path / "m" / "a.yaml")) == "m/a.yaml"
    assert display_path("/elsewhere/a.yaml") == "/elsewhere/a.yaml"
