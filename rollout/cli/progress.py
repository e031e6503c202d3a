"""``rollout progress``: per-street progress toward the targets on a day."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from rollout import settings
from rollout.boundaries import APPROXIMATE_NOTE
from rollout.cli.options import as_of_option, engine_options, open_project, out_option, project_options
from rollout.io import atomic_path
from rollout.progress import COLUMN_LABELS, PACE_LABELS
from rollout.writers import write_progress

_TABLE_COLUMNS = [
    "street_name",
    "macro_target", "macro_done", "macro_pct", "macro_remaining", "macro_expected", "macro_pace",
    "garage_target", "garage_done", "garage_pct", "garage_remaining", "garage_expected", "garage_pace",
]  # fmt: skip


@click.command("progress")
@as_of_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "xlsx"]),
    default=None,
    help="Output format (default: table, or from --out's extension).",
)
@out_option("Write to this file instead of the terminal.")
@project_options
@engine_options
def command(
    as_of,
    fmt: str | None,
    out: Path | None,
    crs: str | None,
    sheet: str | None,
    boundaries: Path | None,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
) -> None:
    """Progress per street and for the district: targets, counts by status, done, % done,
    remaining, expected on the linear plan, ahead or behind.

    \b
    Example:
      rollout progress --as-of 2024-06-30
      rollout progress --as-of 2024-06-30 --out progress.xlsx
    """
    if fmt is None:
        fmt = out.suffix.lower().lstrip(".") if out is not None else "table"
        if fmt not in ("table", "csv", "json", "xlsx"):
            raise click.UsageError(f"cannot tell the format from {out}; add --format csv|json|xlsx")
    with open_project(engine, scheduler, partitions, gather=False, as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries) as project:
        table = project.progress()
    lang = settings.language
    note = APPROXIMATE_NOTE[lang] if project.approximate else ""
    if fmt == "table":
        text = _terminal_table(table, lang)
        if note:
            text += f"\n注：{note}" if lang == "zh" else f"\nNote: {note}"
        if out is None:
            click.echo(text)
        else:
            with atomic_path(out) as tmp:
                tmp.write_text(text + "\n", encoding="utf-8")
    elif out is None and fmt == "csv":
        click.echo(table.to_csv(index=False, lineterminator="\n"), nl=False)
    elif out is None and fmt == "json":
        payload = {
            "as_of": project.as_of.isoformat(),
            "district_code": project.config.district_code,
            "street_zones": table["street_zones"].iloc[0],
            "rows": json.loads(table.to_json(orient="records", force_ascii=False)),
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    elif out is None:
        raise click.UsageError("--format xlsx needs --out FILE.xlsx")
    else:
        write_progress(table, out.with_suffix(f".{fmt}") if out.suffix.lower() != f".{fmt}" else out, approximate=project.approximate)
    if out is not None:
        click.echo(f"已写入 {out}" if lang == "zh" else f"Written to {out}", err=True)


def _terminal_table(table: pd.DataFrame, lang: str) -> str:
    index = 0 if lang == "zh" else 1
    shown = table[_TABLE_COLUMNS].copy()
    if lang == "en":
        shown["street_name"] = table["street_name_en"]
    for column in ("macro_pace", "garage_pace"):
        shown[column] = shown[column].map(lambda v: PACE_LABELS[v][index])
    for column in ("macro_pct", "garage_pct"):
        shown[column] = shown[column].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}%")
    shown.columns = [COLUMN_LABELS[c][index] for c in _TABLE_COLUMNS]
    title = f"统计日期 {table['as_of'].iloc[0]}" if lang == "zh" else f"As of {table['as_of'].iloc[0]}"
    with pd.option_context("display.unicode.east_asian_width", True, "display.width", 250, "display.max_columns", 50):
        return title + "\n" + shown.to_string(index=False)
