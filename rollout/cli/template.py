"""``rollout template``: a blank fill-in workbook for senders."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import current_lang
from rollout.i18n import t
from rollout.io import atomic_path
from rollout.schema import KINDS


@click.command("template")
@click.option("--kind", type=click.Choice(["macro", "garage"]), required=True, help="Macro stations or garage compounds.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="XLSX file to write (default: 宏站填报模板.xlsx or 车库填报模板.xlsx).",
)
def command(kind: str, out: Path | None) -> None:
    """Write a blank fill-in workbook: Chinese headers, a 说明 sheet, drop-down lists and date columns.

    A template filled in as intended loads with no warning.

    \b
    Example:
      rollout template --kind garage --out 车库填报模板.xlsx
    """
    from rollout.template import build_template

    lang = current_lang()
    site_kind = KINDS[kind]
    if out is None:
        out = Path({"macro": "宏站填报模板.xlsx", "garage": "车库填报模板.xlsx"}[kind] if lang == "zh" else f"{kind}_template.xlsx")
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter(f"{out}: the template is an .xlsx workbook", param_hint="--out")
    book = build_template(site_kind, lang=lang)
    with atomic_path(out) as tmp:
        book.save(tmp)
    label = site_kind.label_zh if lang == "zh" else site_kind.label_en
    click.echo(t("template.written", lang, path=out, kind=label, columns=len(site_kind.fields)))
