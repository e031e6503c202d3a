"""``rollout changes``: every change the submissions of a period brought."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli._register import open_cli_register, week_range, write_output
from rollout.cli.options import DateType, current_lang, output_format
from rollout.i18n import t


@click.command("changes")
@click.option("--since", type=DateType(), default=None, help="Changes reported on or after this day.")
@click.option("--week", default=None, help="Changes reported in this ISO week.")
@click.option("--source", default=None, help="Only this sender's changes.")
@click.option("--kind", type=click.Choice(["macro", "garage"]), default=None, help="Only this kind of record.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default=None, help="Output format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file.")
def command(since, week, source, kind, fmt, out) -> None:
    """One row per change the submissions of a period brought."""
    from rollout.register.queries import changes_between, latest_reported_on
    from rollout.register.render import localised

    lang = current_lang()
    fmt = output_format(fmt, out, ("table", "csv", "xlsx"))
    with open_cli_register() as register:
        sender = register.settings.resolve(source).name if source else None
        start, end = week_range(week, since, latest_reported_on(register))
        table = changes_between(register, start, end, source=sender, kind=kind)
    if fmt == "table":
        click.echo(t("register.changes_title", lang, start=start or "—", end=end or "—", count=len(table)), err=True)
    write_output(table, localised(table, lang), fmt, out, sheet=t("register.changes_sheet", lang))
