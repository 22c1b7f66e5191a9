"""shuangtan serve: the web API (engine/service) on uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import click

from engine.cli.common import ReformPath, domain_errors, rules_option
from engine.records.store import ENV_VAR


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (behind a reverse proxy: keep loopback).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--db",
    "db_url",
    envvar=ENV_VAR,
    default=None,
    metavar="URL",
    help="The record (default sqlite:///shuangtan.db, or $SHUANGTAN_DB).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (one PostgreSQL record serves them all).",
)
@rules_option
@click.option(
    "--reform",
    "reforms",
    multiple=True,
    type=ReformPath(),
    help="Decide under a reform (a file or a bundled reform's name; repeatable).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    default=50.0,
    show_default=True,
    help="Open endpoints: requests per second per client (0: no limit).",
)
@click.option(
    "--burst",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Open endpoints: requests a client may make at once.",
)
@click.option(
    "--jobs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where simulation jobs keep their files (default: the temporary folder).",
)
@click.option(
    "--authority",
    "authority_file",
    envvar="SHUANGTAN_AUTHORITY",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="The issuing authority's file (as `notice --authority`).",
)
@click.option(
    "--oidc-issuer", default=None, metavar="URL", help="Accept the bureau staff's JWTs from this OIDC issuer."
)
@click.option(
    "--oidc-audience",
    default=None,
    metavar="AUD",
    help="The audience those JWTs must name (required with --oidc-issuer).",
)
@click.option(
    "--oidc-jwks-uri", default=None, metavar="URL", help="The issuer's JWKS (default: from its discovery document)."
)
@click.option(
    "--oidc-jwks-file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="A JWKS file instead of fetching one.",
)
@click.option(
    "--oidc-claim", default="preferred_username", show_default=True, help="The claim holding the record's account name."
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Proxies whose X-Forwarded-For names the client (rate limits count per client).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@domain_errors
def serve(
    host, port, db_url, workers, rules_dir, reforms, rate, burst, jobs_dir, authority_file,
    oidc_issuer, oidc_audience, oidc_jwks_uri, oidc_jwks_file, oidc_claim, forwarded_allow_ips, log_level,
):  # fmt: skip
    """Serve the rules, self-checks and the record over HTTP (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    from engine.cli.common import load_book
    from engine.cli.records import hide_password, masked_url
    from engine.i18n import t
    from engine.records.store import open_store, resolve_url
    from engine.service.settings import ENV_VAR as SERVE_ENV
    from engine.service.settings import OidcSettings, Settings

    if bool(oidc_issuer) != bool(oidc_audience):
        raise click.UsageError(t("record_cli.serve.oidc_together"))
    book = load_book(rules_dir, reforms)  # a broken rulebook or reform: said now, not by each worker
    url = resolve_url(db_url)
    try:
        open_store(url).dispose()  # migrated once here, before the workers open it
    except Exception as exc:
        from engine.errors import internal_reason

        raise click.ClickException(
            hide_password(t("record_cli.serve.cannot_open", url=masked_url(url), why=internal_reason(exc)), url)
        ) from None
    oidc = None
    if oidc_issuer:
        oidc = OidcSettings(
            issuer=oidc_issuer,
            audience=oidc_audience,
            jwks_uri=oidc_jwks_uri,
            jwks_file=oidc_jwks_file,
            claim=oidc_claim,
        )
    settings = Settings(
        store_url=url,
        rules_dir=str(rules_dir) if rules_dir else None,
        reforms=tuple(str(p) for p in reforms),
        rate=rate,
        burst=burst,
        jobs_dir=str(jobs_dir) if jobs_dir else None,
        authority_file=authority_file,
        oidc=oidc,
    )
    os.environ[SERVE_ENV] = settings.to_env()  # the workers' settings (uvicorn starts them afresh)
    click.echo(
        t("record_cli.serve.started", version=book.version, digest=book.digest, url=masked_url(url), workers=workers),
        err=True,
    )
    uvicorn.run(
        "engine.service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
        server_header=False,
    )


def register(group):
    group.add_command(serve)
