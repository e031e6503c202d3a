"""``rollout users``: the platform's users, their passwords and API tokens."""

from __future__ import annotations

import sys

import click

from rollout.cli._register import project_config, terminal_table
from rollout.cli.options import CONTEXT_SETTINGS, current_db, current_lang
from rollout.i18n import t

ROLES = ("admin", "district", "street", "operator", "tower", "viewer")  # as rollout.web.accounts.ROLES (not imported: argon2)


@click.group("users", context_settings=CONTEXT_SETTINGS)
def command() -> None:
    """The platform's users."""


@command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may see and change.")
@click.option("--street", default="", help="The street of a street coordinator (code or name).")
@click.option("--operator", default="", help="The operator of an operator's engineer.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add(name: str, role: str, street: str, operator: str, password_stdin: bool) -> None:
    """Add a user; prints a one-time password unless one is given."""
    from rollout.web.accounts import add_user

    lang = current_lang()
    with _register() as register:
        user, one_time = add_user(
            register,
            project_config(),
            name,
            role,
            street=street,
            operator=operator,
            password=_stdin() if password_stdin else None,
            created_by="cli",
        )
    click.echo(t("web.cli.added", lang, name=user.name, role=t(f"web.role.{user.role}", lang)))
    if one_time:
        click.echo(t("web.cli.one_time", lang, password=one_time))


@command.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True, help="Output format.")
def list_command(fmt: str) -> None:
    """List the users."""
    from rollout.web.accounts import list_users

    lang = current_lang()
    with _register() as register:
        table = list_users(register)
    if fmt == "csv":
        click.echo(table.to_csv(index=False, lineterminator="\n"), nl=False)
        return
    shown = table.assign(role=table["role"].map(lambda r: t(f"web.role.{r}", lang)))
    shown = shown.rename(columns={c: t(f"web.cli.column.{c}", lang) for c in shown.columns})
    click.echo(terminal_table(shown) if len(shown) else t("web.cli.no_users", lang))


@command.command("disable")
@click.argument("name")
def disable(name: str) -> None:
    """Disable a user: their sessions end and their tokens stop working."""
    _set_disabled(name, True)


@command.command("enable")
@click.argument("name")
def enable(name: str) -> None:
    """Enable a disabled user again."""
    _set_disabled(name, False)


@command.command("reset")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def reset(name: str, password_stdin: bool) -> None:
    """Give a user a new password (one-time unless given) and unlock them."""
    from rollout.web.accounts import reset_password
    from rollout.web.audit import audit

    lang = current_lang()
    with _register() as register:
        one_time = reset_password(register, name, password=_stdin() if password_stdin else None)
        audit(register, _os_user(), "password_reset", target=name, detail={"via": "cli"})
    click.echo(t("web.cli.reset", lang, name=name))
    if one_time:
        click.echo(t("web.cli.one_time", lang, password=one_time))


@command.command("token")
@click.argument("name")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Lifetime in days (default: [web] token_days, 90).")
@click.option("--revoke", is_flag=True, help="Revoke the user's tokens instead.")
def token(name: str, days: int | None, revoke: bool) -> None:
    """Print a new API token for a user (shown once), or revoke their tokens."""
    from rollout.register.queries import shanghai_time
    from rollout.web.accounts import issue_token, revoke_tokens
    from rollout.web.audit import audit
    from rollout.web.settings import load_web_settings

    lang = current_lang()
    config = project_config()
    with _register() as register:
        if revoke:
            count = revoke_tokens(register, name)
            audit(register, _os_user(), "token_revoked", target=name, detail={"count": count, "via": "cli"})
            click.echo(t("web.cli.revoked", lang, name=name, count=count))
            return
        secret, expires = issue_token(register, name, days=days or load_web_settings(config).token_days)
        audit(register, _os_user(), "token_issued", target=name, detail={"expires": expires.isoformat(), "via": "cli"})
    import pandas as pd

    click.echo(secret)
    click.echo(t("web.cli.token", lang, name=name, expires=shanghai_time(pd.Series([expires])).iloc[0]), err=True)


def _set_disabled(name: str, disabled: bool) -> None:
    from rollout.web.accounts import set_disabled
    from rollout.web.audit import audit

    lang = current_lang()
    with _register() as register:
        set_disabled(register, name, disabled)
        audit(register, _os_user(), "user_disabled" if disabled else "user_enabled", target=name, detail={"via": "cli"})
    click.echo(t("web.cli.disabled" if disabled else "web.cli.enabled", lang, name=name))


def _register():
    from rollout.register.store import open_register

    return open_register(project_config(), current_db(), create=True)


def _stdin() -> str:
    return sys.stdin.readline().rstrip("\r\n")


def _os_user() -> str:
    from rollout.register.store import os_user

    return f"cli:{os_user()}"
