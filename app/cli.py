"""Command-line tasks: `flask prevent ...` for set-up, `flask audit verify` for the chain, `flask outbox deliver` and
`flask reminders run` for email, `flask monitoring add-source|revoke-source` for the monitoring systems' keys."""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sys
import threading
from datetime import date

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_appbuilder.exceptions import PasswordComplexityValidationError

from app.extensions import db
from app.identity.passwords import check_password
from app.kernel import audit, audit_verify
from app.kernel.errors import Conflict
from app.kernel.security import ROLE_MATRIX, all_permissions
from app.kernel.uow import unit_of_work
from app.notifications import notify, outbox

prevent_cli = AppGroup("prevent", help="Set-up tasks: roles, reference data, demo data.")
audit_cli = AppGroup("audit", help="The audit trail.")
outbox_cli = AppGroup("outbox", help="Email delivery from the outbox.")
reminders_cli = AppGroup("reminders", help="Reminders and digests that fall due.")
retention_cli = AppGroup("retention", help="Records that have reached the end of their retention period.")
monitoring_cli = AppGroup("monitoring", help="The web filtering and monitoring systems allowed to send alerts.")


@prevent_cli.command("sync-roles")
def sync_roles_command() -> None:
    """Create the roles and mirror the role matrix into FAB's tables (idempotent)."""
    sync_roles()
    click.echo(f"Roles in place: {', '.join(ROLE_MATRIX)}.")


def sync_roles() -> None:
    """The one way roles and their permissions change (nothing served over HTTP may: app/identity/accounts.py), so
    each role whose permissions change here is an audit event, naming the operator."""
    from app.identity.accounts import command_line_actor

    sm = current_app.appbuilder.sm
    # FAB's own calls commit as they go: the permissions and roles exist before the unit of work gives them out.
    current_app.appbuilder.add_permissions(update_perms=True)
    for action, resource in all_permissions():
        sm.add_permission_view_menu(action, resource)
    roles = {role_name: sm.find_role(role_name) or sm.add_role(role_name) for role_name in ROLE_MATRIX}
    with unit_of_work("role") as session:
        for role_name, permissions in ROLE_MATRIX.items():
            role = roles[role_name]
            before = {str(pv) for pv in role.permissions}
            wanted = [sm.find_permission_view_menu(action, resource) for action, resource in permissions]
            role.permissions = [pv for pv in wanted if pv is not None]
            after = {str(pv) for pv in role.permissions}
            if before != after:
                audit.record(session, command_line_actor(), "role_permissions_synced", role, extra_changes={
                    "permissions_added": (None, sorted(after - before)),
                    "permissions_removed": (None, sorted(before - after))})


@prevent_cli.command("seed-reference")
def seed_reference_command() -> None:
    """Add the Home Office concern types and the provider's indicator table where missing (idempotent)."""
    from app.seed import seed_reference
    added = seed_reference()
    click.echo(f"Reference data in place ({added} added).")


@prevent_cli.command("seed-demo")
def seed_demo_command() -> None:
    """On a database with no users, add the demo users and a handful of cases."""
    from app.seed import seed_demo
    password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(12)
    try:
        check_password(password)
    except PasswordComplexityValidationError as exc:
        raise click.ClickException(f"DEMO_PASSWORD is not accepted: {exc}") from None
    if current_app.appbuilder.sm.count_users():
        click.echo("Users exist already: demo data not added.")
        return
    seed_demo(password)
    if os.environ.get("DEMO_PASSWORD"):
        click.echo("Demo users added; their password is DEMO_PASSWORD.")
    else:
        click.echo(f"Demo users added. Their password, shown this once: {password}")


@prevent_cli.command("setup")
@click.pass_context
def setup_command(ctx: click.Context) -> None:
    """Everything `make run` needs after migrating: roles, reference data, demo data on a new database."""
    ctx.invoke(sync_roles_command)
    ctx.invoke(seed_reference_command)
    ctx.invoke(seed_demo_command)


@audit_cli.command("verify")
@click.option("--records", is_flag=True,
              help="Also check every audited record against its last audited state, and the access log's chain.")
def verify_command(records: bool) -> None:
    """Check the audit chain; exit 0 when it holds, 1 when it does not. With --records, each record that differs is
    named on a line of its own (progress goes to stderr)."""
    def progress(model: str, done: int, total: int) -> None:
        click.echo(f"{model}: {done} of {total} checked", err=True)

    result = audit_verify.verify(db.session, records=records, progress=progress)
    for finding in result.records.findings if result.records else []:
        click.echo(finding)
    click.echo(json.dumps(result.as_dict()))
    sys.exit(0 if result.ok else 1)


@audit_cli.command("seal-existing")
def seal_existing_command() -> None:
    """Once, after upgrading to sealed records: seal, as they are now, the records no audit event seals yet."""
    from app.kernel import sealing

    def progress(model: str, done: int, total: int) -> None:
        click.echo(f"{model}: {done} of {total} sealed", err=True)

    try:
        count = sealing.seal_existing(progress)
    except Conflict as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"Sealed {count} records.")


@outbox_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering (for a service) instead of one pass (for cron).")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes with --loop.")
def deliver_command(loop: bool, interval: float) -> None:
    """Send the emails that are due: one pass, or for ever with --loop (stops cleanly on SIGTERM or Ctrl-C)."""
    # Flask-Mail opens SMTP connections without a timeout; a server that never answers must not stall the worker.
    socket.setdefaulttimeout(current_app.config["MAIL_TIMEOUT_SECONDS"])
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    while True:
        try:
            report = outbox.deliver_due()
        except sa.exc.OperationalError as exc:  # the database is away: say so, keep the worker, try again later
            db.session.rollback()
            click.echo(f"Delivery paused, the database is unavailable: {exc.orig}", err=True)
            if not loop:
                sys.exit(1)
        else:
            if report.sent or report.retrying or report.failed or not loop:
                click.echo(f"Outbox: {report}.")
        if not loop:
            return
        try:
            if stopping.wait(interval):
                return
        except KeyboardInterrupt:
            return


@reminders_cli.command("run")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Work out what is due as of this date (default: today).")
def reminders_command(today) -> None:
    """Queue the reminders and digests that have fallen due; a second run the same day queues nothing new."""
    with unit_of_work() as session:
        report = notify.run_reminders(session, today.date() if today else date.today())
    click.echo(str(report))


@retention_cli.command("run")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Work out what is due as of this date (default: today).")
def retention_command(today) -> None:
    """Erase what the Prevent Lead approved and is still due, then list what has newly fallen due for approval."""
    from app.governance import retention

    def progress(done: int, total: int) -> None:
        click.echo(f"Checked {done} of {total} people's records.", err=True)

    click.echo(str(retention.run(today.date() if today else date.today(), progress)))


@monitoring_cli.command("add-source")
@click.argument("name")
def add_source_command(name: str) -> None:
    """Add a monitoring source; its key is printed on the last line, this once (only its hash is kept)."""
    from app.identity.accounts import command_line_actor
    from app.kernel.errors import InvalidData
    from app.monitoring import use_cases as monitoring
    try:
        source, key = monitoring.add_source(command_line_actor(), {"name": name})
    except InvalidData as exc:
        raise click.ClickException(" ".join(m for messages in exc.errors.values() for m in messages)) from None
    click.echo(f"Monitoring source {source.name} added. Its key, shown this once (send it as the "
               f"{monitoring.KEY_HEADER} header):")
    click.echo(key)


@monitoring_cli.command("revoke-source")
@click.argument("name")
def revoke_source_command(name: str) -> None:
    """Revoke a monitoring source: its key stops working at once; its alerts stay."""
    from app.identity.accounts import command_line_actor
    from app.kernel.errors import NotFound
    from app.monitoring import use_cases as monitoring
    try:
        source = monitoring.revoke_source(command_line_actor(), name=name)
    except NotFound:
        raise click.ClickException(f"No monitoring source is named {name}.") from None
    except Conflict as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Monitoring source {source.name} revoked: its key no longer works.")


def register(app: Flask) -> None:
    app.cli.add_command(prevent_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(monitoring_cli)
