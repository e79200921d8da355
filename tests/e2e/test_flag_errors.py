"""Bad flags and bad state are user errors (exit 1, the flag or record named), found before
anything else: before the manifests' keys are resolved and before the server is contacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, embeddings, write_manifest

pytestmark = pytest.mark.e2e

SERVER_COMMANDS = ("plan", "apply", "watch", "smoke")


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    folder = tmp_path / "m"
    write_manifest(folder, "emb", embeddings("emb"))
    return folder


BAD_FLAGS = [
    (("--state", "file:"), "--state file: needs a path"),
    (("--state", "bogus:xyz"), "--state 'bogus:xyz' is neither file:PATH nor an index name"),
    (("--state", "Upper"), "it must be lower case"),
    (("--state", "_private"), "cannot start with -, _ or +"),
    (("--ca-cert", "/nonexistent/ca.pem"), "--ca-cert /nonexistent/ca.pem: no such file"),
    (("--target", "notaurl"), "--target 'notaurl' is not an http(s) URL with a host"),
    (("--target", "ftp://host"), "is not an http(s) URL"),
]


CASES = [
    (command, flag, message)
    for command in SERVER_COMMANDS
    for flag, message in BAD_FLAGS
    if not (command == "smoke" and flag[0] == "--state")  # smoke has no --state
]


@pytest.mark.parametrize(("command", "flag", "message"), CASES, ids=str)
def test_a_bad_flag_is_named_before_a_missing_key(
    cli: Cli, manifests: Path, command: str, flag: tuple[str, ...], message: str
) -> None:
    del cli.env["OPENAI_API_KEY"]  # the flag must be reported first, not the missing key
    code, out, err = cli(command, str(manifests), *flag)
    assert code == 1, out + err
    assert message in err
    assert "OPENAI_API_KEY" not in err
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ("apply", "{m}", "--lock-timeout", "-5"),
        ("watch", "{m}", "--lock-timeout", "-1"),
        ("apply", "{m}", "--concurrency", "0"),
        ("watch", "{m}", "--interval", "0"),
        ("sandbox", "--port", "-5"),
        ("sandbox", "--port", "65536"),
        ("sandbox", "--latency-ms", "-1"),
        ("sandbox", "--es-version", "bogus"),
        ("sandbox", "--es-version", "7.17"),
        ("sandbox", "--basic-auth", "no-colon"),
    ],
    ids=" ".join,
)
def test_out_of_range_flags_are_usage_errors(cli: Cli, manifests: Path, args: tuple[str]) -> None:
    code, out, err = cli(*(a.format(m=manifests) for a in args))
    assert code == 1, out + err
    flag = next(a for a in args if a.startswith("--"))
    assert f"Invalid value for '{flag}'" in err
    assert "Usage: reconcile" in err
    assert "internal error" not in err


def test_export_and_unlock_check_their_flags_too(cli: Cli) -> None:
    code, _out, err = cli("export", "--ca-cert", "/nope")
    assert code == 1 and "--ca-cert /nope: no such file" in err
    code, _out, err = cli("unlock", "abc", "--state", "file:")
    assert code == 1 and "--state file: needs a path" in err


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"last_applied": "garbage"}, "field 'last_applied' should be a JSON object, found str"),
        ({"protect": "yes"}, "field 'protect' should be true or false, found str"),
        ({"inference_id": 7}, "field 'inference_id' should be a string, found int"),
        ({"task_type": None}, "field 'task_type' should be a string, found NoneType"),
    ],
)
def test_a_malformed_state_record_is_a_located_error(
    cli: Cli, manifests: Path, tmp_path: Path, damage: dict[str, object], message: str
) -> None:
    state = tmp_path / "state.json"
    assert cli("apply", str(manifests), "--yes", "--state", f"file:{state}")[0] == 0
    data = json.loads(state.read_text())
    data["records"]["emb"].update(damage)
    state.write_text(json.dumps(data))
    before = state.read_bytes()
    for command in ("plan", "apply"):
        code, out, err = cli(
            *([command, str(manifests), "--state", f"file:{state}"])
            + (["--yes"] if command == "apply" else [])
        )
        assert code == 1, out + err
        assert f"the state record 'emb' in file {state} {message}" in err
        assert f'edit the "records" of {state}' in err
        assert "internal error" not in err and "Traceback" not in err
    assert state.read_bytes() == before  # nothing written


def test_a_malformed_record_in_the_state_index_names_how_to_remove_it(
    cli: Cli, manifests: Path
) -> None:
    assert cli("apply", str(manifests), "--yes")[0] == 0
    with cli.es() as es:
        doc = es.get("/reconciler-state/_doc/emb").json()["_source"]
        doc["last_applied"] = ["not", "an", "object"]
        es.put("/reconciler-state/_doc/emb?refresh=true", json=doc).raise_for_status()
    code, out, err = cli("plan", str(manifests))
    assert code == 1, out + err
    assert "the state record 'emb' in index reconciler-state field 'last_applied'" in err
    assert "DELETE reconciler-state/_doc/emb" in err
