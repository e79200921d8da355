"""Golden files for rendered plans: a plan with one change of every kind, in every format.

The files under tests/golden/plans/ are reviewed like code. After an intended change to the
renderers, regenerate them with `RECONCILE_UPDATE_GOLDEN=1 python -m pytest
tests/unit/test_golden_plans.py` and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from reconciler.model import InUse, Plan
from reconciler.render import plan_markdown, plan_text
from reconciler.render.plan_json import plan_to_dict
from tests.unit.test_planner import applied, body, desired, run

GOLDEN = Path(__file__).parent.parent / "golden" / "plans"


def every_kind_of_change() -> Plan:
    """create, update, replace, key rotation, delete, adopt, blocked and no-op together."""
    create = desired("new-emb", body(dimensions=128))
    update = desired("chat", {**body("gpt-4o-mini"), "task_settings": {"user": "b"}}, "completion")
    update_server, update_state = applied(
        update, {**body("gpt-4o-mini"), "task_settings": {"user": "a"}}
    )
    replace = desired("emb", body("text-embedding-3-large", dimensions=256))
    replace_server, replace_state = applied(replace, body(dimensions=256))
    rotate = desired("comp", body("gpt-4o"), "completion")
    rotate_server, rotate_state = applied(rotate, fp="fp-old")
    gone = desired("gone", body("gpt-4o"), "completion")
    gone_server, gone_state = applied(gone)
    adopt = desired("adopted", body("gpt-4o"), "completion")
    adopt_server = applied(adopt)[0]  # on the server, not in state
    protected = desired("locked", body(dimensions=64), protect=True)
    protected_server, protected_state = applied(protected, body(dimensions=32))
    same = desired("same", body("gpt-4o"), "completion")
    same_server, same_state = applied(same)
    return run(
        [create, update, replace, rotate, adopt, protected, same],
        [
            update_server,
            replace_server,
            rotate_server,
            gone_server,
            adopt_server,
            protected_server,
            same_server,
        ],
        [update_state, replace_state, rotate_state, gone_state, protected_state, same_state],
        version="8.18.0",
        fingerprints={
            item.inference_id: "fp-1" for item in (create, update, replace, adopt, protected, same)
        }
        | {"comp": "fp-new"},
        in_use={"emb": InUse(indexes=("docs",), pipelines=("ingest",))},
        prune=True,
        allow_disruptive=True,
    )


RENDERINGS: dict[str, Any] = {
    "plan.txt": lambda model: plan_text.render(model, show_unchanged=True),
    "plan.md": plan_markdown.render,
    "plan.json": lambda model: json.dumps(model, indent=2) + "\n",
}


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_rendered_plan_matches_the_reviewed_golden_file(name: str) -> None:
    model = plan_to_dict(every_kind_of_change())
    rendered = RENDERINGS[name](model)
    path = GOLDEN / "every-kind" / name
    if os.environ.get("RECONCILE_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered)
    assert rendered == path.read_text()


def test_the_golden_plan_covers_every_action() -> None:
    counts = every_kind_of_change().counts()
    assert all(counts[action] >= 1 for action in counts), counts
