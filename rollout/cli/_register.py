"""Helpers shared by the register's commands (import, changes, history, submissions, conflicts, export)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import pandas as pd

from rollout import settings
from rollout.cli.options import current_db, current_lang
from rollout.config import Config, load_config
from rollout.i18n import t
from rollout.io import atomic_path, write_table


def project_config() -> Config:
    """The project's configuration (``--data``)."""
    return load_config(settings.data_dir)


def open_cli_register(*, create: bool = False):
    """The register of this run (``--db``, ``[register] url`` or ``data/register.sqlite``)."""
    from rollout.register.store import open_register

    return open_register(project_config(), current_db(), create=create, lang=current_lang())


def week_range(week: str | None, since: dt.date | None, latest: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """The days covered by ``--week`` or ``--since``; by default the week of the latest submission."""
    from rollout.weekly import week_end

    if week and since:
        raise click.UsageError(t("register.week_or_since", current_lang()))
    if week:
        try:
            end = week_end(week)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--week") from e
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
    lang = current_lang()
    if fmt == "csv" and out is None:
        from rollout.io import neutralize_formulas

        click.echo(neutralize_formulas(frame).to_csv(index=False, lineterminator="\n"), nl=False)
        return
    if fmt == "table":
        text = terminal_table(shown) if len(shown) else t("register.nothing", lang)
        if out is None:
            click.echo(text)
        else:
            with atomic_path(out) as tmp:
                tmp.write_text(text + "\n", encoding="utf-8")
    elif fmt == "csv":
        write_table(frame, out)
    elif out is None:
        raise click.UsageError(t("register.xlsx_needs_out", lang))
    else:
        write_table(shown, out, sheet_name=sheet)
    if out is not None:
        click.echo(t("register.written", lang, path=out), err=True)


def output_format(fmt: str | None, out: Path | None, allowed: tuple[str, ...]) -> str:
    """``--format``, else from ``--out``'s extension, else table."""
    if fmt is not None:
        return fmt
    if out is None:
        return "table"
    guess = out.suffix.lower().lstrip(".")
    if guess not in allowed:
        raise click.UsageError(t("register.format_from_out", current_lang(), path=out, allowed="|".join(allowed)))
    return guess
