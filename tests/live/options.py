"""The contract suite's command-line options, each with an environment fallback.

pytest honours `pytest_addoption` only in plugins and in the conftests it loads at start-up:
those of the paths given on the command line and their parents. `tests/live/conftest.py`
registers these, so `python -m pytest tests/live --es-url URL` has them; a bare
`python -m pytest` (the `testpaths`) loads that conftest only during collection, so there the
options keep their defaults and the `RECONCILE_LIVE_*` variables stand in for them. Listing
this module in `pytest_plugins` of `tests/conftest.py` (or `-p tests.live.options`) makes the
options known everywhere; registering twice is harmless.
"""

from __future__ import annotations

import os

import pytest

OPTIONS = (
    ("--es-url", "RECONCILE_LIVE_ES_URL", "the Elasticsearch to test (default: a sandbox process)"),
    ("--es-ca-cert", "RECONCILE_LIVE_ES_CA_CERT", "CA bundle for an https --es-url"),
    (
        "--upstream-host",
        "RECONCILE_LIVE_UPSTREAM_HOST",
        "address by which the target reaches this runner's upstream (default 127.0.0.1)",
    ),
    (
        "--upstream-bind",
        "RECONCILE_LIVE_UPSTREAM_BIND",
        "address the upstream binds (default: 127.0.0.1, or 0.0.0.0 for a non-loopback host)",
    ),
    (
        "--record",
        "RECONCILE_LIVE_RECORD",
        "write every exchange, scrubbed, to this JSON Lines file",
    ),
    (
        "--sandbox-es-version",
        "RECONCILE_LIVE_SANDBOX_ES_VERSION",
        "release the self-started sandbox emulates (without --es-url)",
    ),
)
ENV = {flag: env for flag, env, _ in OPTIONS}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("live", "contract suite against a real cluster (tests/live)")
    for flag, env, text in OPTIONS:
        try:
            group.addoption(flag, default=None, help=f"{text}; or ${env}")
        except ValueError:  # already registered (plugin and conftest both loaded)
            return


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "source(*refs): the upstream source of the behaviour a contract test asserts"
    )


def option(config: pytest.Config, flag: str) -> str | None:
    """The option's value, else its environment variable, else None."""
    value = config.getoption(flag.lstrip("-").replace("-", "_"), default=None)
    return value or os.environ.get(ENV[flag]) or None
