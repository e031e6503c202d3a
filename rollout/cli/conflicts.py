"""``rollout conflicts``: records that senders report differently, and settling them."""

from __future__ import annotations

import click

from rollout import labels
from rollout.cli._register import open_cli_register, project_config, terminal_table
from rollout.cli.options import DateType, current_lang
from rollout.i18n import t


@click.command("conflicts")
@click.option("--kind", type=click.Choice(["macro", "garage"]), default=None, help="Only this kind of record.")
@click.option("--as-of", "as_of", type=DateType(), default=None, help="As known on this day (default: now).")
@click.option("--resolve", "resolve", default=None, metavar="ID", help="Settle the conflict of this record id ...")
@click.option("--keep", default=None, metavar="SOURCE", help="... by keeping this sender's record for the counts.")
@click.option("--note", default="", help="Why (kept with the resolution).")
def command(kind, as_of, resolve, keep, note) -> None:
    """List open conflicts, or settle one."""
    from rollout.boundaries import read_streets
    from rollout.register.edits import resolve_conflict
    from rollout.register.loads import site_loads_from
    from rollout.register.render import localised
    from rollout.register.store import os_user

    lang = current_lang()
    if bool(resolve) != bool(keep):
        raise click.UsageError(t("register.resolve_needs_keep", lang))
    with open_cli_register() as register:
        if resolve:
            kinds = [kind] if kind else ["macro", "garage"]
            target = _kind_of(register, resolve, kinds, lang)
            resolve_conflict(register, target, resolve, keep, author=os_user(), note=note)
            click.echo(t("register.resolved", lang, id=resolve, source=register.settings.resolve(keep).name))
            return
        config = project_config()
        _, snapshot = site_loads_from(register, config, read_streets(config), as_of=as_of)
    table = snapshot.conflicts.drop(columns=["lon", "lat"])
    if kind:
        table = table[table["kind"].eq(kind)]
    click.echo(t("register.conflicts_title", lang, count=table[["kind", "record_id"]].drop_duplicates().shape[0], day=snapshot.as_of))
    if len(table):
        shown = table.assign(
            fields=table["fields"]
            .str.split(",")
            .map(
                lambda f: labels.join(
                    (t(f"register.field.{x}", lang) if x == "position" else t("register.column.status", lang) for x in f), lang
                )
            )
        )
        click.echo(terminal_table(localised(shown, lang)))


def _kind_of(register, record_id: str, kinds: list[str], lang) -> str:
    from rollout.register.replay import read_versions

    with register.read() as conn:
        found = read_versions(conn, register.tables, columns=[])
    kinds_found = found[found["record_id"].eq(record_id) & found["kind"].isin(kinds)]["kind"].unique()
    if len(kinds_found) != 1:
        raise click.ClickException(
            t("register.no_record", lang, kind="/".join(kinds), id=record_id)
            if not len(kinds_found)
            else t("register.say_kind", lang, id=record_id)
        )
    return str(kinds_found[0])
