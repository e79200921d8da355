"""`python -m reconciler.sandbox`: parse the command line and serve the sandbox."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .es.openai_client import RetrySettings
from .es.versions import DEFAULT_ES_VERSION, EsVersion
from .server import serve


def _version(text: str) -> str:
    try:
        return str(EsVersion.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _user(text: str) -> str:
    if ":" not in text:
        raise argparse.ArgumentTypeError("expected user:password")
    return text


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m reconciler.sandbox",
        description="A local Elasticsearch inference API with an OpenAI-compatible upstream.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    p.add_argument("--port", type=int, default=9200, help="port (0: any free port)")
    p.add_argument("--data-dir", type=Path, help="persist endpoints, indices and pipelines here")
    p.add_argument(
        "--es-version",
        type=_version,
        default=DEFAULT_ES_VERSION,
        help=f"Elasticsearch version to emulate, 8.15 or later (default: {DEFAULT_ES_VERSION})",
    )
    p.add_argument("--openai-keys", help="comma-separated valid upstream keys (default: any sk-*)")
    p.add_argument("--api-key", action="append", default=[], help="accept ApiKey id:key")
    p.add_argument("--basic-auth", action="append", default=[], type=_user, help="user:password")
    p.add_argument("--latency-ms", type=float, default=0.0, help="delay every request")
    p.add_argument(
        "--upstream-retry-timeout",
        type=float,
        default=RetrySettings().timeout,
        help="seconds the emulation retries upstream 429/500/503 (Elasticsearch: 30)",
    )
    p.add_argument(
        "--eis",
        action="store_true",
        help="authorize the Elastic Inference Service, as on Elastic Cloud (service `elastic`, "
        "`.…-elastic` endpoints); default: a self-managed cluster without it",
    )
    p.add_argument("--log-level", default="warning")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    keys = None if args.openai_keys is None else {k for k in args.openai_keys.split(",") if k}
    return serve(
        args.host,
        args.port,
        log_level=args.log_level,
        data_dir=args.data_dir,
        es_version=args.es_version,
        openai_keys=keys,
        api_keys=args.api_key,
        basic_auth=args.basic_auth,
        latency_ms=args.latency_ms,
        retry=RetrySettings(timeout=args.upstream_retry_timeout),
        eis=args.eis,
    )


if __name__ == "__main__":
    sys.exit(main())
