"""``rollout history``: every version of one record, from every sender."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli._register import open_cli_register, write_output
from rollout.cli.options import current_lang, output_format
from rollout.i18n import t


@click.command("history")
@click.argument("record_id")
@click.option("--kind", type=click.Choice(["macro", "garage"]), default=None, help="Kind of record, when an id is used by both.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default=None, help="Output format (default: table).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file.")
def command(record_id: str, kind, fmt, out) -> None:
    """Every version of one record, from every sender."""
    from rollout.register.queries import HISTORY_COLUMNS, record_history
    from rollout.register.render import localised

    lang = current_lang()
    fmt = output_format(fmt, out, ("table", "csv"))
    with open_cli_register() as register:
        table = record_history(register, record_id.strip(), kind=kind, lang=lang)
    if table.empty:
        raise click.ClickException(t("register.no_history", lang, id=record_id))  # exit 1: nothing found
    table = table[HISTORY_COLUMNS]
    if fmt == "table":
        click.echo(t("register.history_title", lang, id=record_id, count=len(table)), err=True)
    write_output(table, localised(table, lang).drop(columns=[t("register.column.record_id", lang)]), fmt, out, sheet="history")
