"""The `reconcile` command line: parse flags, call the pipeline, render, choose the exit code.

Thin on purpose. Heavy modules are imported inside the commands so that `reconcile --help`
starts fast. Errors are mapped to exit codes in one place, `main()`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reconciler import __version__
from reconciler.errors import ExitCode, ReconcilerError

if TYPE_CHECKING:
    from reconciler.connect import Connection
    from reconciler.planner import PlanOptions

app = typer.Typer(
    name="reconcile",
    help=(
        "Keep Elasticsearch inference endpoints exactly as a Git repository of YAML manifests "
        "says they should be."
    ),
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


SERVER_ENVIRONMENT = (
    "Environment: ES_URL, ELASTICSEARCH_URL or ELASTIC_CLOUD_ID (the target, unless --target);"
    " ES_API_KEY or ELASTICSEARCH_API_KEY (base64 id:key, as Kibana shows it), or ES_USERNAME"
    " and ES_PASSWORD (or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD); ES_CA_CERT or"
    " ELASTICSEARCH_CA_CERT (unless --ca-cert); every variable a manifest's ${VAR} names;"
    " RECONCILE_OWNER (unless --owner); RECONCILE_LOG=info|debug (log lines on stderr);"
    " RECONCILE_DEBUG=1 (a traceback for a bug); NO_COLOR, FORCE_COLOR, TERM=dumb."
)
"""The variables a command that talks to a server reads, for its --help."""
LOCAL_ENVIRONMENT = (
    "Environment: none is needed (${VAR} references are not resolved);"
    " RECONCILE_DEBUG=1 (a traceback for a bug)."
)


class DiagnosticFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reconcile {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Keep Elasticsearch inference endpoints as a Git repository of YAML manifests says."""


AllowEmptyOpt = Annotated[
    bool,
    typer.Option(
        "--allow-empty",
        help="Accept paths that hold no manifest document (with --prune: delete every owned "
        "endpoint). Without it such a set is an error and nothing is sent.",
    ),
]


@app.command(epilog=LOCAL_ENVIRONMENT)
def validate(
    paths: Annotated[
        list[str], typer.Argument(metavar="PATH", help="Manifest files or directories.")
    ],
    output_format: Annotated[
        DiagnosticFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DiagnosticFormat.text,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Check manifests against the schemas and cross-document rules; no server needed.

    Exit 0 when every manifest is valid, 1 otherwise (also when the paths hold no manifest
    document, unless --allow-empty). Files left out (hidden, not .yaml/.yml, not a regular
    file) are listed as `skipped:` notes.
    """
    from reconciler.pipeline import load_manifests
    from reconciler.render.diagnostics import RENDERERS

    manifests = load_manifests(paths, allow_empty=allow_empty)
    render = RENDERERS[output_format.value]
    text = render(
        manifests.diagnostics,
        documents=len(manifests.documents),
        files=manifests.files,
        skipped=manifests.skipped,
    )
    typer.echo(text, nl=False)
    raise typer.Exit(ExitCode.OK if manifests.valid else ExitCode.ERROR)


@app.command()
def schema(
    task_type: Annotated[
        str | None,
        typer.Option(
            help="Print the schema of one task type (of --service; alone: of `openai`) instead "
            "of the manifest envelope."
        ),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(
            help="Print the schema of one service: with --task-type, of that task type; alone, "
            "the envelope of that service's task types."
        ),
    ] = None,
) -> None:
    """Print the manifest JSON Schema (for editors: yaml-language-server, VS Code)."""
    import json

    from reconciler.schema import manifest_schema, schema_for, service_schema

    try:
        if task_type:
            document = schema_for(service or "openai", task_type)
        elif service:
            document = service_schema(service)
        else:
            document = manifest_schema()
    except ValueError as exc:
        hint = "'--service'" if str(exc).startswith("unsupported service") else "'--task-type'"
        raise typer.BadParameter(str(exc), param_hint=hint) from None
    typer.echo(json.dumps(document, indent=2))


def _es_version(value: str | None) -> str | None:
    if value is None:
        return None
    from reconciler.sandbox.es.versions import EsVersion

    try:
        return str(EsVersion.parse(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _user_password(values: list[str] | None) -> list[str] | None:
    for value in values or ():
        if ":" not in value:
            raise typer.BadParameter(f"{value!r}: expected user:password")
    return values


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on (0 picks a free one).")
    ] = 9200,
    data_dir: Annotated[
        str | None, typer.Option(help="Keep endpoints and documents here across restarts.")
    ] = None,
    es_version: Annotated[
        str | None,
        typer.Option(
            callback=_es_version,
            help="Elasticsearch release whose behaviour to emulate (8.15 or later, e.g. 9.1.2).",
        ),
    ] = None,
    openai_keys: Annotated[
        str | None,
        typer.Option(help="Comma-separated OpenAI keys the upstream accepts (default: any sk-…)."),
    ] = None,
    latency_ms: Annotated[
        int, typer.Option(min=0, max=600_000, help="Latency added to every request.")
    ] = 0,
    api_key: Annotated[
        list[str] | None,
        typer.Option(help="Require auth: accept `Authorization: ApiKey` for this id:key."),
    ] = None,
    basic_auth: Annotated[
        list[str] | None,
        typer.Option(callback=_user_password, help="Require auth: accept this user:password."),
    ] = None,
    eis: Annotated[
        bool,
        typer.Option(
            help="Authorize the Elastic Inference Service (`service: elastic`), as on Elastic "
            "Cloud; off, like a self-managed cluster without Cloud Connected Mode."
        ),
    ] = False,
) -> None:
    """Serve a local Elasticsearch inference API and an OpenAI-compatible upstream."""
    from reconciler.sandbox.__main__ import main as sandbox_main

    argv = ["--host", host, "--port", str(port), "--latency-ms", str(latency_ms)]
    argv += [item for value in api_key or () for item in ("--api-key", value)]
    argv += [item for value in basic_auth or () for item in ("--basic-auth", value)]
    argv += ["--eis"] if eis else []
    for flag, value in (
        ("--data-dir", data_dir),
        ("--es-version", es_version),
        ("--openai-keys", openai_keys),
    ):
        if value is not None:
            argv += [flag, value]
    raise typer.Exit(sandbox_main(argv) or 0)


# --- options shared by the commands that talk to a server -------------------------------------

Paths = Annotated[list[str], typer.Argument(metavar="PATH", help="Manifest files or directories.")]
TargetOpt = Annotated[
    str | None,
    typer.Option("--target", help="Elasticsearch URL (default: $ES_URL or $ELASTICSEARCH_URL)."),
]
SandboxOpt = Annotated[
    bool, typer.Option("--sandbox", help="Use an ephemeral in-process sandbox as the target.")
]
CaCertOpt = Annotated[str | None, typer.Option("--ca-cert", help="CA bundle for TLS.")]
InsecureOpt = Annotated[
    bool, typer.Option("--insecure", help="Skip TLS verification (only when asked).")
]
StateOpt = Annotated[
    str | None,
    typer.Option(
        "--state",
        help="State store: an index on the target (default reconciler-state) or file:PATH.",
    ),
]
OwnerOpt = Annotated[
    str,
    typer.Option("--owner", envvar="RECONCILE_OWNER", help="Who owns what this run manages."),
]
PruneOpt = Annotated[
    bool, typer.Option("--prune", help="Delete owned endpoints that no manifest declares.")
]
DisruptiveOpt = Annotated[
    bool,
    typer.Option(
        "--allow-disruptive", help="Allow replacing or deleting endpoints that indexes use."
    ),
]


class KeyRotationChoice(StrEnum):
    auto = "auto"
    update = "update"
    recreate = "recreate"


class PlanFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class Colour(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


RotationOpt = Annotated[
    KeyRotationChoice | None,
    typer.Option("--key-rotation", help="Override every manifest's key_rotation policy."),
]


@app.command(epilog=SERVER_ENVIRONMENT)
def plan(
    paths: Paths,
    target: TargetOpt = None,
    sandbox: SandboxOpt = False,
    ca_cert: CaCertOpt = None,
    insecure: InsecureOpt = False,
    state: StateOpt = None,
    owner: OwnerOpt = "reconciler",
    prune: PruneOpt = False,
    allow_disruptive: DisruptiveOpt = False,
    key_rotation: RotationOpt = None,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="Output format.")
    ] = PlanFormat.text,
    out: Annotated[
        str | None, typer.Option("--out", help="Save the plan for `reconcile apply --plan`.")
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode",
            help="Exit 2 when the target differs from the manifests (changes, or blocked"
            " changes), 0 when it is in sync.",
        ),
    ] = False,
    show_unchanged: Annotated[
        bool, typer.Option("--show-unchanged", help="List endpoints that need no change too.")
    ] = False,
    color: Annotated[Colour, typer.Option("--color", help="Colour the text output.")] = Colour.auto,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Show what apply would change on the target, and why; writes nothing."""
    from reconciler.commands import PlanCommand, run_plan

    command = PlanCommand(
        paths=paths,
        connection=_connection(target, sandbox, ca_cert, insecure, state),
        options=_plan_options(owner, prune, allow_disruptive, key_rotation),
        output_format=output_format.value,
        out=out,
        detailed_exitcode=detailed_exitcode,
        show_unchanged=show_unchanged,
        colour=_colour(color),
        allow_empty=allow_empty,
    )
    raise typer.Exit(run_plan(command, dict(os.environ)))


class SmokeMode(StrEnum):
    changed = "changed"
    all = "all"
    none = "none"


JunitOpt = Annotated[
    str | None,
    typer.Option(
        "--junit",
        metavar="FILE",
        help="Write the smoke tests (and apply's changes) as JUnit XML for CI test reports.",
    ),
]
LockTimeoutOpt = Annotated[
    float,
    typer.Option("--lock-timeout", min=0.0, help="Seconds to wait for another writer's lock."),
]


@app.command(epilog=SERVER_ENVIRONMENT)
def apply(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PATH",
            help="Manifest files or directories (with --plan FILE: default, the plan's own).",
        ),
    ] = None,
    target: TargetOpt = None,
    sandbox: SandboxOpt = False,
    ca_cert: CaCertOpt = None,
    insecure: InsecureOpt = False,
    state: StateOpt = None,
    owner: OwnerOpt = "reconciler",
    prune: PruneOpt = False,
    allow_disruptive: DisruptiveOpt = False,
    key_rotation: RotationOpt = None,
    plan_file: Annotated[
        str | None, typer.Option("--plan", help="Execute a plan saved by `plan --out`.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Endpoints changed at once.")
    ] = 4,
    lock_timeout: LockTimeoutOpt = 0.0,
    smoke: Annotated[
        SmokeMode, typer.Option("--smoke", help="Which endpoints to smoke-test afterwards.")
    ] = SmokeMode.changed,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before replacing or deleting.")
    ] = False,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="Output format of the result.")
    ] = PlanFormat.text,
    color: Annotated[Colour, typer.Option("--color", help="Colour the text output.")] = Colour.auto,
    allow_empty: AllowEmptyOpt = False,
    junit: JunitOpt = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode",
            help="Exit 2 when something changed and every step succeeded, 0 when nothing"
            " needed changing (1 on any failure, as always).",
        ),
    ] = False,
) -> None:
    """Make the target match the manifests, then smoke-test what changed.

    Exit 0 when every change and smoke test succeeded, 1 otherwise (with --detailed-exitcode:
    0 nothing changed, 2 changed and all succeeded, 1 any failure).
    """
    from reconciler.flag_checks import check_output_file

    if not paths and plan_file is None:
        raise typer.BadParameter(
            "give the manifest paths, or a saved plan with --plan FILE", param_hint="'PATH...'"
        )
    check_output_file(junit, "--junit")
    from reconciler.commands import ApplyCommand, run_apply

    command = ApplyCommand(
        paths=paths or [],
        connection=_connection(target, sandbox, ca_cert, insecure, state),
        options=_plan_options(owner, prune, allow_disruptive, key_rotation),
        concurrency=concurrency,
        plan_file=plan_file,
        lock_timeout=lock_timeout,
        smoke=smoke.value,
        yes=yes,
        interactive=sys.stdin.isatty() and sys.stdout.isatty(),
        output_format=output_format.value,
        colour=_colour(color),
        allow_empty=allow_empty,
        junit=junit,
        detailed_exitcode=detailed_exitcode,
    )
    raise typer.Exit(run_apply(command, dict(os.environ)))


@app.command("smoke", epilog=SERVER_ENVIRONMENT)
def smoke_command(
    paths: Paths,
    target: TargetOpt = None,
    sandbox: SandboxOpt = False,
    ca_cert: CaCertOpt = None,
    insecure: InsecureOpt = False,
    output_format: Annotated[
        DiagnosticFormat,
        typer.Option("--format", "-f", help="text, json, or github (workflow annotations)."),
    ] = DiagnosticFormat.text,
    junit: JunitOpt = None,
) -> None:
    """Run a smoke-test inference against every declared endpoint. Exit 1 if any fails."""
    from reconciler.commands import run_smoke
    from reconciler.flag_checks import check_output_file

    check_output_file(junit, "--junit")
    connection = _connection(target, sandbox, ca_cert, insecure, None)
    env = dict(os.environ)
    raise typer.Exit(run_smoke(paths, connection, output_format.value, env, junit=junit))


@app.command(epilog=SERVER_ENVIRONMENT)
def unlock(
    lock_id: Annotated[
        str | None,
        typer.Argument(
            metavar="LOCK_ID", help="The id of the lock to remove (the lock error names it)."
        ),
    ] = None,
    target: TargetOpt = None,
    sandbox: SandboxOpt = False,
    ca_cert: CaCertOpt = None,
    insecure: InsecureOpt = False,
    state: StateOpt = None,
    lock_id_option: Annotated[
        str | None, typer.Option("--lock-id", help="The same as LOCK_ID.", hidden=True)
    ] = None,
) -> None:
    """Remove the state lock LOCK_ID left by a run on another machine that is gone.

    Never removes a lock whose process still runs on this machine; a lock whose process on
    this machine is gone needs no unlock: the next apply or watch takes it over.
    """
    from reconciler.commands import run_unlock
    from reconciler.errors import UsageError

    chosen = lock_id or lock_id_option
    if not chosen or not chosen.strip():
        raise UsageError(
            "unlock needs the lock id (as `terraform force-unlock LOCK_ID`): reconcile unlock"
            " LOCK_ID; the error of the run that found the lock names it"
        )
    connection = _connection(target, sandbox, ca_cert, insecure, state)
    raise typer.Exit(run_unlock(connection, chosen.strip(), dict(os.environ)))


@app.command(epilog=SERVER_ENVIRONMENT)
def watch(
    paths: Paths,
    target: TargetOpt = None,
    sandbox: SandboxOpt = False,
    ca_cert: CaCertOpt = None,
    insecure: InsecureOpt = False,
    state: StateOpt = None,
    owner: OwnerOpt = "reconciler",
    prune: PruneOpt = False,
    allow_disruptive: DisruptiveOpt = False,
    key_rotation: RotationOpt = None,
    interval: Annotated[
        float,
        typer.Option("--interval", min=0.1, help="Seconds between drift checks against live."),
    ] = 60.0,
    no_heal: Annotated[
        bool,
        typer.Option("--no-heal", help="Report drift on a check instead of undoing it."),
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Endpoints changed at once.")
    ] = 4,
    lock_timeout: LockTimeoutOpt = 0.0,
    smoke: Annotated[
        SmokeMode, typer.Option("--smoke", help="Which endpoints to smoke-test after a change.")
    ] = SmokeMode.changed,
    allow_empty: AllowEmptyOpt = False,
) -> None:
    """Apply the manifests on every save and heal drift every --interval, until Ctrl-C.

    Holds the state lock while it runs: an apply or a second watcher waits (--lock-timeout),
    then fails naming it. An invalid or half-written file, or a set left with no manifest
    document (unless --allow-empty), changes nothing. Exit 130 on Ctrl-C.
    """
    from reconciler.watch import WatchCommand, run_watch

    command = WatchCommand(
        paths=paths,
        connection=_connection(target, sandbox, ca_cert, insecure, state),
        options=_plan_options(owner, prune, allow_disruptive, key_rotation),
        interval=interval,
        heal=not no_heal,
        lock_timeout=lock_timeout,
        concurrency=concurrency,
        smoke=smoke.value,
        allow_empty=allow_empty,
    )
    raise typer.Exit(run_watch(command, dict(os.environ)))


class AzureAuth(StrEnum):
    api_key = "api_key"
    entra_id = "entra_id"


@app.command(epilog=SERVER_ENVIRONMENT)
def export(
    target: TargetOpt = None,
    sandbox: SandboxOpt = False,
    ca_cert: CaCertOpt = None,
    insecure: InsecureOpt = False,
    out: Annotated[
        str | None,
        typer.Option("--out", help="Write <inference_id>.yaml files here (default: stdout)."),
    ] = None,
    include_preconfigured: Annotated[
        bool,
        typer.Option(
            "--include-preconfigured",
            help="Also list the server's preconfigured `.…` endpoints, commented out.",
        ),
    ] = False,
    key_var: Annotated[
        str, typer.Option("--key-var", help="Environment variable named by every api_key.")
    ] = "OPENAI_API_KEY",
    schema_ref: Annotated[
        str | None,
        typer.Option("--schema-ref", help="$schema of the yaml-language-server modeline."),
    ] = None,
    azureopenai_auth: Annotated[
        AzureAuth,
        typer.Option(
            "--azureopenai-auth",
            help="The secret written for an azureopenai endpoint without OAuth2 settings (its "
            "auth type cannot be read back; OAuth2 endpoints get client_secret).",
        ),
    ] = AzureAuth.api_key,
) -> None:
    """Write one manifest per live endpoint of every managed service; then plan shows only
    adopt lines.

    Each secret path gets a ${VAR}: <SERVICE>_<FIELD> upper-cased, other characters as `_`
    (COHERE_API_KEY, AMAZONBEDROCK_ACCESS_KEY, ...; openai: --key-var)."""
    from reconciler.export import ExportCommand, run_export

    command = ExportCommand(
        connection=_connection(target, sandbox, ca_cert, insecure, None),
        out=out,
        include_preconfigured=include_preconfigured,
        key_var=key_var,
        schema_ref=schema_ref,
        azure_auth=azureopenai_auth.value,
    )
    raise typer.Exit(run_export(command, dict(os.environ)))


def _connection(
    target: str | None, sandbox: bool, ca_cert: str | None, insecure: bool, state: str | None
) -> Connection:
    from reconciler.connect import Connection
    from reconciler.flag_checks import check_connection_flags

    check_connection_flags(target=target, ca_cert=ca_cert, state=state, sandbox=sandbox)
    return Connection(
        target=target, sandbox=sandbox, ca_cert=ca_cert, insecure=insecure, state=state
    )


def _plan_options(
    owner: str, prune: bool, allow_disruptive: bool, key_rotation: KeyRotationChoice | None
) -> PlanOptions:
    from reconciler.model import KeyRotation
    from reconciler.planner import PlanOptions

    return PlanOptions(
        owner=owner,
        prune=prune,
        allow_disruptive=allow_disruptive,
        key_rotation=KeyRotation(key_rotation.value) if key_rotation else None,
    )


def _colour(choice: Colour) -> bool:
    return wants_colour(choice.value, os.environ, sys.stdout.isatty())


def wants_colour(choice: str, env: Mapping[str, str], tty: bool) -> bool:
    """`--color always|never` decides; `auto` follows the conventions, in this order:
    `NO_COLOR` (https://no-color.org) and `TERM=dumb` turn colour off, `FORCE_COLOR`
    (https://force-color.org) turns it on when piped, else colour only on a terminal."""
    if choice != "auto":
        return choice == "always"
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    return tty


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and map every outcome to a documented exit code."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code instead of exiting (used by tests)."""
    exits, aborts, usage_errors = _click_exceptions()
    command = typer.main.get_command(app)
    _configure_logging(os.environ.get("RECONCILE_LOG", "warning"))
    try:
        result = command.main(args=argv, prog_name="reconcile", standalone_mode=False)
    except exits as done:
        return int(getattr(done, "exit_code", 0))
    except aborts:
        return _interrupted()
    except usage_errors as exc:
        return _usage_error(exc, command, argv)
    except ReconcilerError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as exc:  # a bug: say so, without locals (they may hold secrets)
        return _bug(exc)
    return int(result or 0)


def _click_exceptions() -> tuple[
    tuple[type[BaseException], ...], tuple[type[BaseException], ...], tuple[type[Exception], ...]
]:
    """The exit, abort and usage-error classes of the click that typer runs on.

    From typer 0.26 on that is a click bundled inside typer (`typer._click`), whose exceptions
    are not the standalone `click` package's: catching `click.ClickException` would turn
    every usage error into an "internal error". typer's own names reach the right classes in
    every version, so no `click` import is needed."""
    usage_base = next(
        (cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"),
        typer.BadParameter,
    )
    return (typer.Exit,), (typer.Abort,), (usage_base,)


def _usage_error(exc: Exception, group: Any, argv: list[str] | None) -> int:
    """Print click's message with the usage line and exit 1.

    `reconcile` alone raises NoArgsIsHelpError: that prints the help, as a bare command should.
    Some parser errors (an option missing its value) carry no context, hence no usage line:
    the usage of the command named in argv is printed first then."""
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        typer.echo(ctx.get_help(), err=True)
        return ExitCode.ERROR
    if ctx is None:
        typer.echo(_usage_of(group, sys.argv[1:] if argv is None else argv), err=True)
    show = getattr(exc, "show", None)
    if callable(show):
        show()
    else:
        typer.echo(f"error: {exc}", err=True)
    return ExitCode.ERROR


def _usage_of(group: Any, argv: list[str]) -> str:
    root = typer.Context(group, info_name="reconcile")
    name = next((a for a in argv if not a.startswith("-")), None)
    sub = group.get_command(root, name) if name else None
    if sub is None:
        return group.get_usage(root) + "\nTry 'reconcile -h' for help.\n"
    ctx = typer.Context(sub, info_name=name, parent=root)
    return sub.get_usage(ctx) + f"\nTry 'reconcile {name} -h' for help.\n"


def _configure_logging(level: str) -> None:
    """`RECONCILE_LOG=info|debug` shows retries and requests on stderr (never a body or key)."""
    import logging

    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _interrupted() -> int:
    typer.echo("interrupted", err=True)
    return ExitCode.INTERRUPTED


def _bug(exc: Exception) -> int:
    typer.echo(
        f"internal error (this is a bug in reconcile {__version__}): {type(exc).__name__}. "
        "Re-run with RECONCILE_DEBUG=1 for a traceback and report it.",
        err=True,
    )
    if os.environ.get("RECONCILE_DEBUG"):
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    return ExitCode.BUG
