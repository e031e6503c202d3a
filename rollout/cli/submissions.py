"""``rollout submissions``: who sent what, and who is overdue."""

from __future__ import annotations

import click

from rollout.cli._register import open_cli_register, terminal_table, week_range
from rollout.cli.options import current_lang
from rollout.i18n import t


@click.command("submissions")
@click.option("--week", default=None, help="ISO week such as 2024-W26.")
def command(week: str | None) -> None:
    """Who sent what in a week, and who is overdue."""
    from rollout.register.queries import latest_reported_on, overdue_senders, submissions_between
    from rollout.register.render import localised

    lang = current_lang()
    with open_cli_register() as register:
        start, end = week_range(week, None, latest_reported_on(register))
        table = submissions_between(register, start, end)
        overdue = overdue_senders(register, end) if end is not None else None
    click.echo(t("register.submissions_title", lang, start=start or "—", end=end or "—", count=len(table)))
    if len(table):
        click.echo(terminal_table(localised(table, lang)))
    if overdue is not None and len(overdue):
        click.echo(t("register.overdue_title", lang, count=len(overdue)))
        click.echo(terminal_table(localised(overdue, lang)))
    elif overdue is not None:
        click.echo(t("register.none_overdue", lang))
