"""Helpers shared by the register's commands (import, changes, history, submissions, conflicts, export)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import pandas as pd

from rollout.cli.options import current_data_dir, current_db, current_lang
from rollout.config import Config, load_config
from rollout.i18n import t


def project_config() -> Config:
    """The project's configuration (``--data``)."""
    return load_config(current_data_dir())


def open_cli_register(*, create: bool = False):
    """The register of this run (``--db``, ``[register] url`` or ``data/register.sqlite``)."""
    from rollout.register.store import open_register

    return open_register(project_config(), current_db(), create=create)


def week_range(week: str | None, since: dt.date | None, latest: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """The days covered by ``--week`` or ``--since``; by default the week of the latest submission."""
    from rollout.errors import InvalidValueError
    from rollout.weekly import week_end

    lang = current_lang()
    if week and since:
        raise click.UsageError(t("register.week_or_since", lang))
    if week:
        try:
            end = week_end(week)
        except InvalidValueError as e:
            raise click.BadParameter(e.message(lang), param_hint="--week") from e
        return end - dt.timedelta(days=6), end
    if since:
        return since, None
    if latest is None:
        return None, None
    start = latest - dt.timedelta(days=latest.weekday())
    return start, start + dt.timedelta(days=6)


def terminal_table(frame: pd.DataFrame) -> str:
    """A table for the terminal, CJK-aware."""
    with pd.option_context(
        "display.unicode.east_asian_width", True, "display.width", 250, "display.max_columns", 50, "display.max_colwidth", 60
    ):
        return frame.to_string(index=False)


def write_output(frame: pd.DataFrame, shown: pd.DataFrame, fmt: str, out: Path | None, *, sheet: str) -> None:
    """Write or print a table: CSV keeps codes and English columns (``frame``), XLSX and the
    terminal table use words in the run's language (``shown``)."""
    from rollout.writers import Table, neutralize_formulas, write_file, write_text

    lang = current_lang()
    if fmt == "csv" and out is None:
        click.echo(neutralize_formulas(frame).to_csv(index=False, lineterminator="\n"), nl=False)
        return
    if fmt == "table":
        text = terminal_table(shown) if len(shown) else t("register.nothing", lang)
        if out is None:
            click.echo(text)
        else:
            write_text(out, text + "\n")
    elif fmt == "csv":
        assert out is not None
        write_file(out, Table(frame))
    elif out is None:
        raise click.UsageError(t("cli.msg.xlsx_needs_out", lang))
    else:
        write_file(out, Table(shown, sheet_name=sheet))
    if out is not None:
        click.echo(t("cli.msg.written", lang, path=out), err=True)
