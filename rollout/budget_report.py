"""The link budget as planners check it: line by line per band, and the cell range per band and clutter.

``rollout coverage --explain`` prints :func:`budget_text`. Words come from
``rollout/locale/coverage.toml``; numbers from :mod:`rollout.linkbudget`.
"""

from __future__ import annotations

from rollout.coverage_settings import CoverageSettings
from rollout.i18n import Lang, t
from rollout.linkbudget import CLUTTER_CODES, budget_lines, range_table

__all__ = ["budget_text", "range_text"]


def budget_text(settings: CoverageSettings, *, clutter: str = "dense_urban", service: str = "outdoor", lang: Lang = "zh") -> list[str]:
    """Every band's downlink and uplink budget in ``clutter`` for ``service``, then the range table."""
    receiver = settings.receiver
    lines = [
        t(
            "coverage.explain.heading",
            lang,
            model=receiver.model,
            clutter=t(f"coverage.clutter.{clutter}", lang),
            service=t(f"coverage.service.{service}", lang),
        )
    ]
    table = range_table(settings.bands, settings.clutters, receiver)
    for band in settings.bands.values():
        row = table[(table["band"] == band.name) & (table["clutter"] == clutter) & (table["service"] == service)].iloc[0]
        lines.append("")
        lines.append(
            t(
                "coverage.explain.band",
                lang,
                band=band.name,
                f_mhz=f"{band.f_mhz:g}",
                duplex=band.duplex,
                bandwidth=f"{band.bandwidth_mhz:g}",
                height=f"{band.height_m:g}",
                tilt=f"{band.downtilt_deg:g}",
                width=f"{band.vertical_beamwidth_deg:g}",
            )
        )
        for link in ("dl", "ul"):
            lines.append("  " + t(f"coverage.explain.{link}", lang))
            for line in budget_lines(band, settings.clutters[clutter], receiver, indoor=service == "indoor"):
                if line.link != link:
                    continue
                label = t(f"coverage.line.{line.code}", lang)
                detail = _detail(line.code, line.detail, lang)
                value = 0.0 if abs(line.value) < 0.05 else line.value  # no "-0.0"
                lines.append(f"    {_pad(label, 24)} {value:>8.1f} {line.unit:<4} {detail}".rstrip())
        lines.append(
            "  "
            + t(
                "coverage.explain.result",
                lang,
                limit=t(f"coverage.explain.limit_{row['limit']}", lang),
                mapl=f"{row['mapl_db']:.1f}",
                range=int(row["range_m"]),
            )
        )
    lines.append("")
    lines.extend(range_text(settings, lang=lang))
    return lines


def range_text(settings: CoverageSettings, *, lang: Lang = "zh") -> list[str]:
    """Cell range (m) per band and service, one column per clutter class; ``*`` marks uplink-limited."""
    table = range_table(settings.bands, settings.clutters, settings.receiver)
    header = _pad(t("coverage.explain.range_heading", lang), 16) + "".join(
        _pad(t(f"coverage.clutter.{c}", lang), 12, right=True) for c in CLUTTER_CODES
    )
    lines = [header]
    for (band, service), group in table.groupby(["band", "service"], sort=False):
        ranges = dict(zip(group["clutter"], group["range_m"].astype(int), strict=True))
        limits = dict(zip(group["clutter"], group["limit"], strict=True))
        values = "".join(_pad(f"{ranges[c]}{'*' if limits[c] == 'ul' else ''}", 12, right=True) for c in CLUTTER_CODES)
        lines.append(_pad(f"{band} {t(f'coverage.service.{service}', lang)}", 16) + values)
    lines.append(t("coverage.explain.range_note", lang))
    return lines


def _detail(code: str, detail: str, lang: Lang) -> str:
    if not detail:
        return ""
    if code == "ssb_gain":
        return t("coverage.detail.traffic_gain", lang, gain=detail)
    if code == "clutter_loss":
        return t(f"coverage.clutter.{detail}", lang)
    if code == "penetration":
        return t("coverage.detail.penetration", lang, share=detail)
    return detail


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    space = " " * max(width - _width(text), 1)
    return space + text if right else text + space
