"""``rollout import``: bring a sender's weekly submission into the register."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli._register import project_config, terminal_table
from rollout.cli.options import DateType, boundaries_option, crs_option, current_db, current_lang, sheet_option, state
from rollout.i18n import Lang, t

_SHOWN = 40


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="Sender, as in [sources] of rollout.toml.")
@click.option("--kind", type=click.Choice(["macro", "garage"]), default=None, help="What the files hold.")
@click.option("--as-of", "as_of", type=DateType(), default=None, help="The day the submission describes.")
@click.option("--dry-run", is_flag=True, help="Show the comparison and change nothing.")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write rejects and warnings here.")
@crs_option
@sheet_option
@boundaries_option
@click.pass_context
def command(ctx, files, source, kind, as_of, dry_run, rejects, crs, sheet, boundaries) -> None:
    """Import a sender's submission into the register."""
    from rollout.boundaries import read_streets
    from rollout.cli.validate import print_load
    from rollout.exports import write_problems
    from rollout.problems import concat_problems
    from rollout.register.importer import import_files

    lang = current_lang()
    config = project_config()
    streets = read_streets(config, path=boundaries)
    results = import_files(
        files, config, streets, source=source, kind=kind, as_of=as_of, dry_run=dry_run, sheet=sheet, crs=crs, db=current_db()
    )
    verbose = state(ctx).verbose
    for result in results:
        print_load(result.load.kind.name, result.load.summary(), result.load.problems, verbose=verbose, lang=lang)
        _print_comparison(result, lang, verbose=verbose)
    if rejects:
        write_problems(concat_problems([r.load.problems for r in results]), rejects, lang=lang)
        click.echo(t("cli.msg.problems_written", lang, path=rejects))
    ctx.exit(1 if any(len(r.load.rejected_rows) for r in results) else 0)


def _print_comparison(result, lang: Lang, *, verbose: int) -> None:
    from rollout import labels
    from rollout.register.compare import CHANGE_CLASSES
    from rollout.register.render import change_label, localised

    changes = result.comparison.changes
    counts = changes.drop_duplicates(["record_id", "change"])["change"].value_counts()
    parts = [f"{change_label(c, lang)} {int(counts.get(c, 0))}" for c in CHANGE_CLASSES]
    kind = labels.kind_title(result.kind.name, lang)
    click.echo(
        t(
            "register.import_summary",
            lang,
            source=result.source.label(lang),
            kind=kind,
            day=result.reported_on,
            counts=labels.join(parts, lang),
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
