"""``rollout validate``: check site files, report rejects, write normalised records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pandas as pd

from rollout import labels
from rollout.cli.options import as_of_option, boundaries_option, crs_option, current_lang, engine_options, open_project, sheet_option
from rollout.i18n import Lang, t

_WARNINGS_SHOWN = 10


@click.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--kind", type=click.Choice(["macro", "garage"]), default=None, help="What the files hold (default: guessed per file).")
@click.option(
    "--rejects", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write rejects and warnings to this CSV/XLSX."
)
@click.option(
    "--clean", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write loaded records as CSV, GeoJSON or GeoPackage."
)
@crs_option
@sheet_option
@as_of_option
@boundaries_option
@engine_options
@click.pass_context
def command(
    ctx: click.Context,
    files: tuple[Path, ...],
    kind: str | None,
    rejects: Path | None,
    clean: Path | None,
    crs: str | None,
    sheet: str | None,
    as_of,
    boundaries: Path | None,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
) -> None:
    """Check site files: every row is loaded or rejected, with file, row, column and reason."""
    from rollout.exports import write_problems, write_records
    from rollout.io import expand_paths, read_raw_table
    from rollout.problems import concat_problems

    lang = current_lang()
    by_kind: dict[str, list[Path]] = {"macro": [], "garage": []}
    for path in files:
        by_kind[kind or read_raw_table(expand_paths([path])[0], sheet=sheet).kind.name].append(path)
    if files and not by_kind["macro"] and not by_kind["garage"]:
        raise click.UsageError(t("cli.msg.no_files", lang))
    load: dict[str, Any] = {"macro": by_kind["macro"] if files else None, "garage": by_kind["garage"] if files else None}
    # validate checks the site files, always (the register's records were checked when imported).
    load |= {"use_register": False}
    with open_project(engine, scheduler, partitions, as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries, **load) as project:
        # Summaries and problems are made where the records are; records travel only for --clean.
        summaries = {name: part.summary_and_problems() for name, part in project.loads.items() if part.parts}
        verbose = ctx.find_root().obj.verbose if ctx.find_root().obj else 0
        for name, (summary, problems) in summaries.items():
            print_load(name, summary, problems, verbose=verbose, lang=lang)
        total_loaded = sum(int(summary["loaded"].sum()) for summary, _ in summaries.values())
        total_rejected = sum(int(summary["rejected"].sum()) for summary, _ in summaries.values())
        click.echo(t("cli.msg.total", lang, loaded=total_loaded, rejected=total_rejected))
        if project.approximate:
            click.echo(t("cli.msg.approximate_no_file", lang))
        if rejects:
            write_problems(concat_problems([p for _, p in summaries.values()]), rejects, lang=lang)
            click.echo(t("cli.msg.problems_written", lang, path=rejects))
        if clean:
            for path in write_records([getattr(project, name) for name in summaries], clean):
                click.echo(t("cli.msg.records_written", lang, path=path))
    ctx.exit(1 if total_rejected else 0)


def print_load(kind: str, summary: pd.DataFrame, problems: pd.DataFrame, *, verbose: int, lang: Lang) -> None:
    """Each file's counts, then its rejects and (the first few, all with -v) warnings."""
    from rollout.problems import REJECTED, WARNING, with_reasons

    for row in summary.to_dict("records"):
        encoding, sheet = str(row["encoding"] or ""), str(row["sheet"] or "")
        line = t(
            "cli.msg.file_summary",
            lang,
            file=row["file"],
            kind=labels.kind_title(kind, lang),
            encoding=t("cli.msg.encoding", lang, encoding=encoding.upper()) if encoding else "",
            sheet=t("cli.msg.sheet", lang, sheet=sheet) if sheet else "",
            rows=row["rows"],
            loaded=row["loaded"],
            rejected=row["rejected"],
            warnings=row["warnings"],
        )
        if row["blank_rows"]:
            line += t("cli.msg.blank_rows", lang, count=row["blank_rows"])
        click.echo(line)
        mine = problems[problems["file"] == row["file"]]
        for severity in (REJECTED, WARNING):
            shown = mine[mine["severity"] == severity]
            hidden = 0
            if severity == WARNING and not verbose:
                hidden = max(len(shown) - _WARNINGS_SHOWN, 0)
                shown = shown.head(_WARNINGS_SHOWN)
            mark = t(f"labels.severity.{severity}", lang)
            for p in with_reasons(shown, lang).to_dict("records"):
                column = f" {p['column']}" if p["column"] else ""
                value = f" = {p['value']!r}" if p["value"] else ""
                click.echo(t("cli.msg.problem", lang, severity=mark, row=p["row"], column=column, value=value, reason=p["reason"]))
            if hidden:
                click.echo(t("cli.msg.more_warnings", lang, count=hidden))
