"""``rollout import``: bring a sender's weekly submission into the register."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli._register import project_config, terminal_table
from rollout.cli.options import DateType, boundaries_option, crs_option, current_db, current_lang, sheet_option
from rollout.errors import InputFileError
from rollout.i18n import t

_SHOWN = 40


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--source", required=True, help="Sender, as in [sources] of rollout.toml: 铁塔, 移动 (中国移动/cmcc), 电信, 联通, 广电 or a street."
)
@click.option("--kind", type=click.Choice(["macro", "garage"]), default=None, help="What the files hold (default: told from each file).")
@click.option("--as-of", "as_of", type=DateType(), default=None, help="The day the submission describes (default: today, Asia/Shanghai).")
@click.option("--dry-run", is_flag=True, help="Show the comparison and change nothing.")
@click.option(
    "--rejects", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write rejects and warnings to this CSV/XLSX."
)
@crs_option
@sheet_option
@boundaries_option
@click.pass_context
def command(ctx, files, source, kind, as_of, dry_run, rejects, crs, sheet, boundaries) -> None:
    """Import a sender's submission: check every row as validate does, compare with the register's
    records from that sender (new, status, regressed, moved, changed, missing, conflict, possible
    renames) and apply the whole file in one transaction. Files of both kinds make one
    submission per kind. Exits 1 when rows were rejected.

    \b
    Example:
      rollout import data/sites/macro_stations.csv --source 铁塔 --as-of 2024-06-30
      rollout import 移动_0630.xlsx --source 中国移动 --dry-run
    """
    from rollout.boundaries import read_streets
    from rollout.cli.validate import _print_load
    from rollout.register.importer import import_files
    from rollout.writers import write_problems

    lang = current_lang()
    config = project_config()
    streets = read_streets(config, path=boundaries)
    try:
        results = import_files(
            files, config, streets, source=source, kind=kind, as_of=as_of, dry_run=dry_run, sheet=sheet, crs=crs, db=current_db(), lang=lang
        )
    except InputFileError as e:  # a file that cannot be read as a whole: bad input, nothing imported
        error = click.ClickException(str(e))
        error.exit_code = 2
        raise error from e
    verbose = ctx.obj.get("verbose", 0) if ctx.obj else 0
    for result in results:
        _print_load(result.load, verbose=verbose)
        _print_comparison(result, lang, verbose=verbose)
    if rejects:
        import pandas as pd

        write_problems(pd.concat([r.load.problems for r in results], ignore_index=True), rejects)
        click.echo(t("register.written", lang, path=rejects))
    ctx.exit(1 if any(len(r.load.rejected_rows) for r in results) else 0)


def _print_comparison(result, lang, *, verbose: int) -> None:
    from rollout.register.compare import CHANGE_CLASSES
    from rollout.register.render import change_label, localised

    changes = result.comparison.changes
    counts = changes.drop_duplicates(["record_id", "change"])["change"].value_counts()
    parts = [f"{change_label(c, lang)} {int(counts.get(c, 0))}" for c in CHANGE_CLASSES]
    label = result.kind.label_zh if lang == "zh" else result.kind.label_en
    click.echo(
        t(
            "register.import_summary",
            lang,
            source=result.source.label(lang),
            kind=label,
            day=result.reported_on,
            counts=("，" if lang == "zh" else ", ").join(parts),
        )
    )
    if len(changes) and result.outcome in ("applied", "dry_run"):
        table = changes.assign(kind=result.kind.name)[["change", "record_id", "kind", "field", "old", "new"]]
        shown = localised(table, lang).drop(columns=t("register.column.kind", lang))
        limit = len(shown) if verbose else _SHOWN
        click.echo(terminal_table(shown.head(limit)))
        if len(shown) > limit:
            click.echo(t("register.more_changes", lang, count=len(shown) - limit))
    where = {
        "applied": "register.applied",
        "dry_run": "register.dry_run",
        "same_file": "register.same_file",
        "unchanged": "register.unchanged",
    }
    click.echo(t(where[result.outcome], lang, id=result.submission_id or result.previous_id or "", source=result.source.label(lang)))
