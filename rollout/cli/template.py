"""``rollout template``: a blank fill-in workbook for senders."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import current_lang
from rollout.i18n import t


@click.command("template")
@click.option("--kind", type=click.Choice(["macro", "garage"]), required=True, help="Macro stations or garage compounds.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="XLSX file to write.")
def command(kind: str, out: Path | None) -> None:
    """Write a blank fill-in workbook."""
    from rollout import labels
    from rollout.schema import KINDS
    from rollout.template import build_template
    from rollout.writers import write_file

    lang = current_lang()
    site_kind = KINDS[kind]
    if out is None:
        out = Path(t(f"template.default_file.{kind}", lang))
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter(t("template.not_xlsx", lang, path=out), param_hint="--out")
    write_file(out, build_template(site_kind, lang=lang))
    click.echo(t("template.written", lang, path=out, kind=labels.kind_title(kind, lang), columns=len(site_kind.fields)))
