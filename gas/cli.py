"""The ``gas`` command."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import logging
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click
import uvloop

from app.config import Settings
from app.infra import logs
from app.jobs.builds import BUILDS, INDEXED

log = logging.getLogger("gas")


def _settings(**overrides: Any) -> Settings:
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    logs.setup(settings.log_level, settings.log_format)
    return settings


def _run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run a long-lived role until SIGINT or SIGTERM, on uvloop: its sockets and
    callbacks in C took the web role's job list from about 650 to 710 requests a
    second (bench/web.py)."""

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    uvloop.run(run())


def _require_reference(settings: Settings) -> None:
    """An annotator without reference data would fail every job, one whose jobs could
    outlast SQS's hold on their requests would have them redone: refuse to start."""
    from annotator.worker import lease_problem, reference_problem

    problem = reference_problem(settings) or lease_problem(settings)
    if problem:
        raise click.ClickException(problem)


@click.group()
def main() -> None:
    """GAS, the Genomics Annotation Service."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (GAS_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (GAS_PORT, default 5000).")
@click.option("--roles", default=None, metavar="ROLE,...",
              help="The workers to run beside the web, comma-separated (default: annotator,"
                   "notify,archive,restore,thaw; \"\" for the web alone).")
def serve(host: str | None, port: int | None, roles: str | None) -> None:
    """Run everything in one process: web, annotator and daemons."""
    import os

    from gas.serve import ROLES

    chosen = list(ROLES) if roles is None else [r.strip() for r in roles.split(",") if r.strip()]
    unknown = sorted(set(chosen) - set(ROLES))
    if unknown:
        raise click.BadParameter(f"unknown role(s) {', '.join(unknown)}; choose from {', '.join(ROLES)}",
                                 param_hint="--roles")

    overrides: dict[str, Any] = {"host": host, "port": port}
    if "GAS_PUBLIC_URL" not in os.environ:
        base = Settings()
        overrides["public_url"] = f"http://{host or base.host}:{port or base.port}"
    settings = _settings(**overrides)
    if "annotator" in chosen:
        _require_reference(settings)
    from gas.serve import run_roles

    _run_until_signalled(lambda stop: run_roles(settings, stop, chosen, web=True))


@main.command()
def annotator() -> None:
    """Run the annotator role alone."""
    settings = _settings()
    _require_reference(settings)
    from gas.serve import run_roles

    _run_until_signalled(lambda stop: run_roles(settings, stop, ["annotator"]))


@main.command()
@click.argument("role", type=click.Choice(["notify", "archive", "restore", "thaw"]))
def daemon(role: str) -> None:
    """Run one lifecycle daemon alone: notify, archive, restore or thaw."""
    settings = _settings()
    from gas.serve import run_roles

    _run_until_signalled(lambda stop: run_roles(settings, stop, [role]))


@main.command("annotate")
@click.argument("input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--build", default="auto", show_default=True,
              type=click.Choice(["auto", *BUILDS]))
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the JSON summary here.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the human-readable log here.")
@click.option("--skip-bad-lines", is_flag=True,
              help="Leave out unreadable records (counted in the log and summary) instead of failing.")
def annotate(input_path: Path, output: Path, build: str, summary: Path | None,
             log_path: Path | None, skip_bad_lines: bool) -> None:
    """Annotate a VCF file (plain or gzipped) without a server."""
    from annotator import engine
    from annotator.reference import ReferenceMissing

    settings = _settings()
    try:
        result = engine.annotate_file(
            input_path, output, reference_root=settings.reference_path, build=build,
            log_path=log_path, summary_path=summary, skip_bad_lines=skip_bad_lines,
        )
    except engine.VcfError as exc:
        raise click.ClickException(f"{input_path}: {exc}") from exc
    except ReferenceMissing as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{result.get('variant_count', 0)} variants annotated -> {output}", err=True)


@main.group()
def reference() -> None:
    """Reference data."""


@reference.command("install")
@click.option("--build", "builds", default="GRCh37", show_default=True,
              type=click.Choice([*INDEXED, "all"]))
def reference_install(builds: str) -> None:
    """Download the public reference data and build the index (idempotent)."""
    from annotator import installer
    from annotator.install_error import ReferenceInstallError

    settings = _settings()
    try:
        installer.install(settings.reference_path, [builds])  # "all": every build the manifest has
    except ReferenceInstallError as exc:
        # An operator's file refused (another build, damaged, wrong sha256): the reason, not a traceback.
        raise click.ClickException(str(exc)) from None


def _with_artifact_store(settings: Settings, action: Callable[[Any], Awaitable[Any]]) -> Any:
    """``action(objects)`` on S3 (the stack's artifact bucket) whatever GAS_BACKEND says;
    a reference refused is its reason, not a traceback."""
    from annotator.install_error import ReferenceInstallError
    from app.ports.aws import AwsSession
    from app.ports.objects.aws import S3ObjectStore

    async def run() -> Any:
        aws = AwsSession(settings.aws_region, settings.aws_endpoint_url)
        try:
            return await action(S3ObjectStore(aws))
        finally:
            await aws.close()

    try:
        return asyncio.run(run())
    except ReferenceInstallError as exc:
        raise click.ClickException(str(exc)) from None


_ARTIFACT_BUCKET = click.option("--bucket", required=True,
                                help="The artifact bucket (the stack's ArtifactBucket).")
_REFERENCE_PREFIX = click.option("--prefix", default="reference", show_default=True,
                                 help="Key prefix in the bucket.")


@reference.command("publish")
@_ARTIFACT_BUCKET
@_REFERENCE_PREFIX
def reference_publish(bucket: str, prefix: str) -> None:
    """Upload the built reference (what `gas reference install` made) as one archive and
    its sha256, for annotators to fetch instead of building it."""
    from annotator.reference_archive import publish

    settings = _settings()
    root = settings.reference_path
    key = _with_artifact_store(settings, lambda objects: publish(objects, bucket, prefix, root))
    click.echo(f"published s3://{bucket}/{key}")


@reference.command("fetch")
@_ARTIFACT_BUCKET
@_REFERENCE_PREFIX
def reference_fetch(bucket: str, prefix: str) -> None:
    """Download the published reference of this release, check its sha256 and unpack it.
    With none published, say so and leave the reference to `gas reference install`."""
    from annotator.reference_archive import fetch

    settings = _settings()
    root = settings.reference_path
    builds = _with_artifact_store(settings, lambda objects: fetch(objects, bucket, prefix, root))
    if builds is None:
        click.echo(f"no reference published under s3://{bucket}/{prefix}/ for this release: "
                   "`gas reference install` will build it")
    else:
        click.echo(f"fetched the {', '.join(builds)} reference into {root}")


@main.group()
def users() -> None:
    """Accounts."""


def _with_db(action: Callable[[Any], Awaitable[None]]) -> None:
    from app.infra import db as dbmod

    settings = _settings()

    async def run() -> None:
        embedded = None
        url = settings.database_url
        if not url:
            embedded = dbmod.EmbeddedPostgres(settings.data_path)
            url = embedded.start()
        try:
            database = await dbmod.connect(url, max_size=2)
            try:
                await dbmod.migrate(database)
                await action(database)
            finally:
                await database.disconnect()
        finally:
            if embedded is not None:
                embedded.stop()

    asyncio.run(run())


def _with_services(action: Callable[[Any], Awaitable[None]]) -> None:
    from app.services import open_services

    async def run() -> None:
        services = await open_services(_settings())
        try:
            await action(services)
        finally:
            await services.close()

    asyncio.run(run())


@users.command("create")
@click.argument("email")
@click.option("--password", default=None, help="Asked for when not given.")
@click.option("--role", type=click.Choice(["free", "premium"]), default="free", show_default=True)
@click.option("--name", default="")
def users_create(email: str, password: str | None, role: str, name: str) -> None:
    """Create an account."""
    from app.accounts import users as model

    if password is None:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            raise click.ClickException("The passwords differ.")
    if len(password) < 8:
        raise click.ClickException("Use a password of at least 8 characters.")

    async def action(database: Any) -> None:
        try:
            user = await model.create(database, email, password, name=name, role=role)  # type: ignore[arg-type]
        except model.EmailTaken:
            raise click.ClickException(f"An account for {email} exists already.") from None
        click.echo(json.dumps({"user_id": user.user_id, "email": user.email, "role": user.role}))

    _with_db(action)


@users.command("token")
@click.argument("email")
@click.option("--name", default="cli")
def users_token(email: str, name: str) -> None:
    """Print a new API token for the account, alone on one line."""
    from app.accounts import users as model

    async def action(database: Any) -> None:
        user = await model.get_by_email(database, email)
        if user is None:
            raise click.ClickException(f"No account for {email}.")
        click.echo(await model.create_token(database, user.user_id, name))

    _with_db(action)


@users.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(["free", "premium"]))
def users_role(email: str, role: str) -> None:
    """Change an account's plan. Premium is granted as a subscription by the operator,
    so the user's archived results are restored as after a payment; free cancels the user's
    subscription with the payment service and ends Premium as a cancelled one does."""
    from app.accounts import billing, subscriptions
    from app.accounts import users as model
    from app.ports.payments import Paid

    async def action(services: Any) -> None:
        user = await model.get_by_email(services.db, email)
        if user is None:
            raise click.ClickException(f"No account for {email}.")
        if user.role == role:
            click.echo(f"{user.email}: {role} already")
            return
        if role == "premium":
            paid = Paid(user.user_id, "operator", f"gas users role {uuid.uuid4()}")
            await subscriptions.upgrade(services.db, services.bus, paid)
        else:
            await billing.downgrade(services, user.user_id)
        click.echo(f"{user.email}: {role}")

    _with_services(action)


@main.group()
def queues() -> None:
    """The message queues: their depths, and sending dead letters back."""


@queues.command("list")
def queues_list() -> None:
    """Each queue: messages waiting and messages in its dead-letter queue."""
    from app.jobs.lifecycle import queue_specs
    from app.ops.queues import depths

    async def action(services: Any) -> None:
        click.echo(f"{'queue':24} {'waiting':>8} {'dead-lettered':>14}")
        for depth in await depths(services.bus, queue_specs(services.settings)):
            click.echo(f"{depth.queue:24} {depth.waiting:>8} {depth.dead_lettered:>14}")

    _with_services(action)


@queues.command("redrive")
@click.argument("queue")
@click.option("--limit", type=int, default=None, help="Move at most this many (default: all).")
def queues_redrive(queue: str, limit: int | None) -> None:
    """Send QUEUE's dead-lettered messages back to QUEUE, once their cause is fixed."""
    from app.jobs.lifecycle import queue_specs
    from app.ops.queues import redrive

    async def action(services: Any) -> None:
        specs = {spec.name: spec for spec in queue_specs(services.settings)}
        if queue not in specs:
            raise click.BadParameter(f"no queue {queue!r}; choose from {', '.join(specs)}",
                                     param_hint="QUEUE")
        moved = await redrive(services.bus, specs[queue], limit)
        click.echo(f"{moved} message{'s' if moved != 1 else ''} back on {queue}")

    _with_services(action)


@main.group("aws")
def aws_group() -> None:
    """Running on AWS (GAS_BACKEND=aws)."""


@aws_group.command("provision")
@click.option("--stack-name", default="gas", show_default=True)
@click.option("--template", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Default: deploy/data-plane.yaml.")
def aws_provision(stack_name: str, template: Path | None) -> None:
    """Create or update the data-plane stack (buckets, table, topics, queues) from the settings."""
    from app.ops.provision import TEMPLATE, ProvisionError, provision

    settings = _settings()
    try:
        result = asyncio.run(provision(settings, stack_name, template or TEMPLATE))
    except ProvisionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({"stack": result.stack_name, "status": result.status,
                           "outputs": result.outputs, "made_through_api": result.completed},
                          indent=2))


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
