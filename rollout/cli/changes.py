"""``rollout changes``: every change the submissions of a period brought."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli._register import open_cli_register, output_format, week_range, write_output
from rollout.cli.options import DateType, current_lang
from rollout.i18n import t


@click.command("changes")
@click.option("--since", type=DateType(), default=None, help="Changes reported on or after this day.")
@click.option("--week", default=None, help="Changes reported in this ISO week (2024-W26). Default: the week of the latest submission.")
@click.option("--source", default=None, help="Only this sender's changes.")
@click.option("--kind", type=click.Choice(["macro", "garage"]), default=None, help="Only this kind of record.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default=None, help="Output format (default: table, or from --out)."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (CSV goes to standard output without it).",
)
def command(since, week, source, kind, fmt, out) -> None:
    """One row per change: record_id, kind, source, change (new, status, regressed, moved,
    changed, missing, conflict, rename), field, old, new, submission, reported_on.

    \b
    Example:
      rollout changes --week 2024-W26
      rollout changes --since 2024-06-01 --source 移动 --format csv > changes.csv
    """
    from rollout.register.queries import changes_between, latest_reported_on
    from rollout.register.render import localised

    lang = current_lang()
    fmt = output_format(fmt, out, ("table", "csv", "xlsx"))
    with open_cli_register() as register:
        sender = register.settings.resolve(source, lang=lang).name if source else None
        start, end = week_range(week, since, latest_reported_on(register))
        table = changes_between(register, start, end, source=sender, kind=kind)
    if fmt == "table":
        click.echo(t("register.changes_title", lang, start=start or "—", end=end or "—", count=len(table)), err=True)
    write_output(table, localised(table, lang), fmt, out, sheet=t("register.changes_sheet", lang))
