"""Exit codes CI can trust and results where CI shows them: `--detailed-exitcode` on plan and
apply, JUnit XML from apply and smoke, the GitHub job summary, smoke annotations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.e2e.conftest import KEY, Cli, completion, embeddings, write_manifest

pytestmark = pytest.mark.e2e


def folder_with(tmp_path: Path, *documents: tuple[str, str]) -> Path:
    folder = tmp_path / "m"
    for name, text in documents:
        write_manifest(folder, name, text)
    return folder


def fail_inference(cli: Cli) -> None:
    """Every inference call fails: the smoke tests fail, nothing else does."""
    rule = {"method": "POST", "path": "/_inference/*", "status": 500, "retry_after": 0}
    rule["count"] = 1000
    rule["body"] = {"error": {"type": "status_exception", "reason": "upstream is down"}}
    with cli.es() as es:
        es.post("/_sandbox/faults", json=rule).raise_for_status()


# --- plan --detailed-exitcode counts blocked changes -----------------------------------------


def test_a_plan_whose_only_changes_are_blocked_is_not_in_sync(cli: Cli, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, ("e", embeddings("e", dimensions=128)))
    folder.joinpath("e.yaml").write_text(
        folder.joinpath("e.yaml").read_text() + "reconcile:\n  protect: true\n"
    )
    assert cli("apply", str(folder), "--yes")[0] == 0
    assert cli("plan", str(folder), "--detailed-exitcode")[0] == 0  # in sync
    text = folder.joinpath("e.yaml").read_text().replace("dimensions: 128", "dimensions: 64")
    folder.joinpath("e.yaml").write_text(text)  # needs a replace, which protect forbids
    code, out, err = cli("plan", str(folder), "--detailed-exitcode")
    assert code == 2, out + err
    assert "protect: true forbids replace" in out
    plan = cli.plan_json(str(folder))
    assert plan["has_changes"] is False
    assert plan["in_sync"] is False
    assert [b["inference_id"] for b in plan["blocked"]] == ["e"]
    assert plan["blocked"][0]["reason_code"] == "protected"


# --- apply --detailed-exitcode --------------------------------------------------------------


def test_apply_detailed_exitcode_is_0_unchanged_2_changed_1_failed(
    cli: Cli, tmp_path: Path
) -> None:
    folder = folder_with(tmp_path, ("c", completion("c")))
    code, out, err = cli("apply", str(folder), "--detailed-exitcode", "--yes")
    assert code == 2, out + err  # created, every step succeeded
    code, out, err = cli("apply", str(folder), "--detailed-exitcode", "--yes")
    assert code == 0, out + err  # nothing needed changing
    write_manifest(folder, "d", completion("d"))
    fail_inference(cli)  # the create succeeds, its smoke test fails
    code, out, err = cli("apply", str(folder), "--detailed-exitcode", "--yes")
    assert code == 1, out + err


# --- JUnit ----------------------------------------------------------------------------------


def parse_junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        failed = [c for c in cases if c.find("failure") is not None]
        assert int(suite.get("failures", "-1")) == len(failed)
        for case in cases:
            assert case.get("name") and case.get("classname")
            assert float(case.get("time", "x")) >= 0
    assert int(root.get("tests", "-1")) == sum(int(s.get("tests", "0")) for s in root)
    return root


def test_apply_and_smoke_write_junit_passing_and_failing(cli: Cli, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, ("e", embeddings("e")), ("c", completion("c")))
    report = tmp_path / "apply.xml"
    code, out, err = cli("apply", str(folder), "--yes", "--junit", str(report))
    assert code == 0, out + err
    root = parse_junit(report)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"reconcile apply", "reconcile smoke"}
    smoke = {c.get("name"): c for c in suites["reconcile smoke"].findall("testcase")}
    assert set(smoke) == {"e", "c"}
    assert smoke["e"].get("classname") == "openai.text_embedding"
    assert smoke["c"].get("classname") == "openai.completion"
    assert all(c.find("failure") is None for c in smoke.values())
    changes = [c.get("name") for c in suites["reconcile apply"].findall("testcase")]
    assert sorted(changes) == ["create c", "create e"]

    fail_inference(cli)
    smoke_report = tmp_path / "smoke.xml"
    code, out, err = cli("smoke", str(folder), "--junit", str(smoke_report))
    assert code == 1, out + err
    root = parse_junit(smoke_report)
    (suite,) = root.findall("testsuite")
    failures = {c.get("name"): c.find("failure") for c in suite.findall("testcase")}
    assert set(failures) == {"e", "c"}
    for failure in failures.values():
        assert failure is not None and failure.get("message") == "smoke test failed"
        assert "upstream is down" in (failure.text or "")
    for path in (report, smoke_report):
        assert KEY not in path.read_text() and KEY[-10:] not in path.read_text()


def test_junit_into_a_missing_folder_is_a_usage_error_before_anything_runs(
    cli: Cli, tmp_path: Path
) -> None:
    folder = folder_with(tmp_path, ("c", completion("c")))
    code, _out, err = cli("apply", str(folder), "--yes", "--junit", str(tmp_path / "no/r.xml"))
    assert code == 1 and "the folder" in err and "does not exist" in err
    with cli.es() as es:
        assert "c" not in {
            e["inference_id"] for e in es.get("/_inference/_all").json()["endpoints"]
        }


# --- GitHub ---------------------------------------------------------------------------------


def test_plan_apply_and_smoke_append_to_the_job_summary(cli: Cli, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, ("c", completion("c")))
    summary = tmp_path / "summary.md"
    summary.write_text("earlier steps\n")
    cli.env["GITHUB_STEP_SUMMARY"] = str(summary)
    assert cli("plan", str(folder))[0] == 0
    assert cli("apply", str(folder), "--yes")[0] == 0
    assert cli("smoke", str(folder))[0] == 0
    text = summary.read_text()
    assert text.startswith("earlier steps\n")
    assert text.index("### reconcile plan") < text.index("### reconcile apply succeeded")
    assert text.index("### reconcile apply succeeded") < text.index("### reconcile smoke")
    assert "| `c` |" in text
    assert KEY not in text


def test_smoke_format_github_annotates_the_manifests(cli: Cli, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, ("c", completion("c")))
    assert cli("apply", str(folder), "--yes", "--smoke", "none")[0] == 0
    code, out, _err = cli("smoke", str(folder), "--format", "github")
    assert code == 0
    assert f"::notice file={folder / 'c.yaml'},line=1,col=15,title=reconcile smoke%3A c::" in out
    fail_inference(cli)
    code, out, _err = cli("smoke", str(folder), "--format", "github")
    assert code == 1
    (line,) = [x for x in out.splitlines() if x.startswith("::error ")]
    assert "c.yaml" in line and "upstream is down" in line
    assert out.rstrip().endswith("Smoke tests: 0 of 1 passed.")


def test_the_json_plan_lists_blocked_changes_even_when_empty(cli: Cli, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, ("c", completion("c")))
    plan = cli.plan_json(str(folder))
    assert plan["in_sync"] is False and plan["blocked"] == []
    assert cli("apply", str(folder), "--yes")[0] == 0
    plan = cli.plan_json(str(folder))
    assert plan["in_sync"] is True and plan["has_changes"] is False
    assert json.dumps(plan).count(KEY) == 0


# --- apply --plan FILE needs no PATH ----------------------------------------------------------


def test_a_saved_plan_applies_without_paths(cli: Cli, tmp_path: Path) -> None:
    folder = folder_with(tmp_path, ("c", completion("c")))
    saved = tmp_path / "plan.json"
    assert cli("plan", str(folder), "--out", str(saved))[0] == 0
    assert json.loads(saved.read_text())["manifest_paths"] == [str(folder)]
    code, out, err = cli("apply", "--plan", str(saved), "--yes", "--detailed-exitcode")
    assert code == 2, out + err
    assert cli("plan", str(folder), "--detailed-exitcode")[0] == 0


def test_a_saved_plan_without_paths_is_refused_once_its_manifests_changed(
    cli: Cli, tmp_path: Path
) -> None:
    folder = folder_with(tmp_path, ("c", completion("c")))
    saved = tmp_path / "plan.json"
    assert cli("plan", str(folder), "--out", str(saved))[0] == 0
    write_manifest(folder, "c", completion("c", user="someone-else"))
    code, _out, err = cli("apply", "--plan", str(saved), "--yes")
    assert code == 1
    assert "the saved plan is stale: the manifests or their keys changed since" in err
    with cli.es() as es:
        live = es.get("/_inference/_all").json()["endpoints"]
    assert "c" not in {e["inference_id"] for e in live}


def test_a_saved_plan_without_paths_is_refused_once_the_server_changed(
    cli: Cli, tmp_path: Path
) -> None:
    folder = folder_with(tmp_path, ("c", completion("c")))
    saved = tmp_path / "plan.json"
    assert cli("plan", str(folder), "--out", str(saved))[0] == 0
    other = folder_with(tmp_path / "other", ("d", completion("d")))
    assert cli("apply", str(other), "--yes", "--smoke", "none")[0] == 0  # the state moved on
    code, _out, err = cli("apply", "--plan", str(saved), "--yes")
    assert code == 1
    assert "the saved plan is stale: the server or the state changed since" in err
