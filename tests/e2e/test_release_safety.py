"""Key rotation end to end, through the CLI, against a sandbox process at each kind of release.

8.17.0 and 9.1.7 reset `chunking_settings` on `_update` and do not try the key there
(elastic/elasticsearch#139574, #122356); 9.3.0 is the 9.3 release before the fix (#141682, in
9.3.1); 9.5.0 keeps chunking, tries the key and can update chunking in place. The sandbox's
upstream accepts only the keys given with `--openai-keys`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import KEY, Cli, write_manifest
from tests.fixtures.sandbox import start_sandbox_process

pytestmark = pytest.mark.e2e

NEW_KEY = KEY + "-rotated"
BAD_KEY = "sk-mistyped-0123456789abcdefgh"
CHUNKING = {"strategy": "sentence", "max_chunk_size": 120, "sentence_overlap": 0}
WORD = {"strategy": "word", "max_chunk_size": 250, "overlap": 100}


def embeddings(key_rotation: str | None = None) -> str:
    text = (
        "inference_id: emb\ntask_type: text_embedding\nservice: openai\n"
        "service_settings:\n  api_key: ${OPENAI_API_KEY}\n  model_id: text-embedding-3-small\n"
        "  dimensions: 64\n"
        "chunking_settings:\n  strategy: sentence\n  max_chunk_size: 120\n  sentence_overlap: 0\n"
    )
    return text + (f"reconcile:\n  key_rotation: {key_rotation}\n" if key_rotation else "")


def endpoint(cli: Cli, inference_id: str = "emb") -> dict[str, Any]:
    with cli.es() as es:
        response = es.get(f"/_inference/text_embedding/{inference_id}")
    (found,) = response.json()["endpoints"]
    return found


def in_sync(cli: Cli, folder: Path) -> bool:
    code, _, err = cli("plan", str(folder), "--detailed-exitcode")
    assert code in (0, 2), err
    return code == 0


@pytest.mark.parametrize("version", ["8.17.0", "9.1.7", "9.3.0", "9.5.0"])
def test_key_rotation_keeps_chunking_and_a_bad_key_keeps_the_old_one_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: str
) -> None:
    with start_sandbox_process(es_version=version, openai_keys=[KEY, NEW_KEY]) as sandbox:
        cli = Cli(sandbox.url, {"ES_URL": sandbox.url, "OPENAI_API_KEY": KEY}, capsys, [])
        folder = tmp_path / "m"
        write_manifest(folder, "emb", embeddings())
        assert cli("apply", str(folder))[0] == 0
        assert in_sync(cli, folder)

        cli.env["OPENAI_API_KEY"] = BAD_KEY
        code, out, _ = cli("apply", str(folder), "--yes")
        assert code == 1
        assert "left as it was" in out or "left serving with its old key" in out
        assert BAD_KEY not in out
        cli.env["OPENAI_API_KEY"] = KEY
        code, out, _ = cli("smoke", str(folder))
        assert code == 0 and "✓ smoke emb" in out
        assert in_sync(cli, folder)  # nothing was recorded for the refused key

        cli.env["OPENAI_API_KEY"] = NEW_KEY
        change = next(
            c for c in cli.plan_json(str(folder))["changes"] if c["inference_id"] == "emb"
        )
        resets = version in ("8.17.0", "9.1.7", "9.3.0")
        expected = (
            ("replace", "replace-chunking-reset") if resets else ("update", "rotate-key-in-place")
        )
        assert (change["action"], change["reason_code"]) == expected
        code, out, err = cli("apply", str(folder), "--yes")
        assert code == 0, out + err
        assert endpoint(cli)["chunking_settings"] == CHUNKING
        with cli.es() as es:  # the endpoint now answers with the new key only
            es.post("/_sandbox/openai/keys/_revoke", json={"key": KEY})
        code, out, _ = cli("smoke", str(folder))
        assert code == 0 and "✓ smoke emb" in out
        assert in_sync(cli, folder)


def _used_by_an_index(cli: Cli) -> None:
    field = {"type": "semantic_text", "inference_id": "emb"}
    with cli.es() as es:
        created = es.put("/docs", json={"mappings": {"properties": {"text": field}}})
        assert created.status_code == 200, created.text
        indexed = es.post("/docs/_doc", json={"text": "hello"})
        assert indexed.status_code == 201, indexed.text


def test_in_use_on_a_resetting_release_the_user_chooses_and_no_plan_repeats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with start_sandbox_process(es_version="9.1.7", openai_keys=[KEY, NEW_KEY]) as sandbox:
        cli = Cli(sandbox.url, {"ES_URL": sandbox.url, "OPENAI_API_KEY": KEY}, capsys, [])
        folder = tmp_path / "m"
        write_manifest(folder, "emb", embeddings())
        assert cli("apply", str(folder))[0] == 0
        _used_by_an_index(cli)
        cli.env["OPENAI_API_KEY"] = NEW_KEY

        code, out, _ = cli("plan", str(folder))
        assert "! blocked emb (text_embedding)" in out
        assert "elastic/elasticsearch#139574" in out
        assert "allow disruptive changes to replace it" in out
        assert "set key_rotation: update" in out

        code, out, err = cli("apply", str(folder), "--key-rotation", "update", "--yes")
        assert code == 0, out + err
        assert "✓ update emb" in out
        assert "reset chunking_settings" in out
        assert endpoint(cli)["chunking_settings"] == WORD

        code, out, _ = cli("plan", str(folder), "--detailed-exitcode")
        assert code == 0, out
        assert "Differences left alone (no change planned):" in out
        assert "To restore sentence/120/0, allow disruptive changes" in out
        assert cli("plan", str(folder), "--detailed-exitcode", "--key-rotation", "update")[0] == 0

        code, out, err = cli("apply", str(folder), "--allow-disruptive", "--yes")
        assert code == 0, out + err
        assert "✓ replace emb" in out
        assert endpoint(cli)["chunking_settings"] == CHUNKING
        assert in_sync(cli, folder)
        with cli.es() as es:
            es.post("/_sandbox/openai/keys/_revoke", json={"key": KEY})
        code, out, _ = cli("smoke", str(folder))
        assert code == 0 and "✓ smoke emb" in out


def test_a_forced_update_with_a_bad_key_is_stopped_by_the_probe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """9.1.7 would store the bad key (no validation on `_update`): the probe refuses it first."""
    with start_sandbox_process(es_version="9.1.7", openai_keys=[KEY]) as sandbox:
        cli = Cli(sandbox.url, {"ES_URL": sandbox.url, "OPENAI_API_KEY": KEY}, capsys, [])
        folder = tmp_path / "m"
        write_manifest(folder, "emb", embeddings(key_rotation="update"))
        assert cli("apply", str(folder))[0] == 0
        cli.env["OPENAI_API_KEY"] = BAD_KEY
        code, out, _ = cli("apply", str(folder), "--yes")
        assert code == 1
        assert "refused on a probe endpoint; emb was left serving with its old key" in out
        assert endpoint(cli)["chunking_settings"] == CHUNKING  # no update was made
        cli.env["OPENAI_API_KEY"] = KEY
        code, out, _ = cli("smoke", str(folder))
        assert code == 0 and "✓ smoke emb" in out
        assert in_sync(cli, folder)
