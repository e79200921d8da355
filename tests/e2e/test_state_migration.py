"""A state file written before secret maps (one `key_fingerprint` per record) still plans in
sync, a rotation after it is seen per path, and the next write keeps both forms.

`tests/data/state/format-1-key-fingerprint.json` was written by `reconcile apply` of the two
manifests below with `OPENAI_API_KEY=LEGACY_KEY` and `--state file:` against the sandbox, with
the reconciler as it was before secret maps.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.e2e.conftest import Cli, write_manifest

LEGACY_STATE = Path(__file__).parents[1] / "data" / "state" / "format-1-key-fingerprint.json"
LEGACY_KEY = "sk-legacy-format-0123456789abcdef"
EMBEDDINGS = """inference_id: legacy-emb
task_type: text_embedding
service: openai
service_settings:
  api_key: ${OPENAI_API_KEY}
  model_id: text-embedding-3-small
  dimensions: 256
"""
COMPLETION = """inference_id: legacy-chat
task_type: completion
service: openai
service_settings:
  api_key: ${OPENAI_API_KEY}
  model_id: gpt-4o-mini
task_settings:
  user: legacy
"""


def test_a_state_file_from_before_secret_maps_plans_in_sync_then_rotates_per_path(
    cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "manifests"
    write_manifest(folder, "emb", EMBEDDINGS)
    write_manifest(folder, "chat", COMPLETION)
    state = tmp_path / "state.json"
    cli.env["OPENAI_API_KEY"] = LEGACY_KEY
    # the endpoints on this sandbox, as they were when the old state file was written
    code, _, err = cli("apply", str(folder), "--state", f"file:{state}", "--yes", "--smoke", "none")
    assert code == 0, err
    shutil.copyfile(LEGACY_STATE, state)

    code, out, err = cli("plan", str(folder), "--state", f"file:{state}", "--detailed-exitcode")
    assert code == 0, out + err  # migrated: the same key at the same path, no rotation
    assert "No changes" in out

    cli.env["OPENAI_API_KEY"] = LEGACY_KEY + "-rotated"
    code, out, err = cli("plan", str(folder), "--state", f"file:{state}", "--detailed-exitcode")
    assert code == 2, out + err
    assert out.count("service_settings.api_key: (sensitive) changed") == 2

    code, out, err = cli("apply", str(folder), "--state", f"file:{state}", "--yes")
    assert code == 0, out + err
    written = json.loads(state.read_text())
    for record in written["records"].values():
        fingerprints = record["secret_fingerprints"]
        assert list(fingerprints) == ["service_settings.api_key"]
        assert record["key_fingerprint"] == fingerprints["service_settings.api_key"]
    assert LEGACY_KEY not in state.read_text()
    code, out, err = cli("plan", str(folder), "--state", f"file:{state}", "--detailed-exitcode")
    assert code == 0, out + err
