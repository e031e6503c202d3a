"""What each recommended site serves, and the planning results in words and files.

:func:`site_rows` replays the chosen sites in rank order and records, per site, the demand it
newly serves in each component's unit (km², households and which compounds, Mbit/s, weak MR
samples, complaints) and the busy-hour load it takes off its neighbours. The rest renders
the results in Chinese or English (``lang``) and writes them, one small function per file.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from rollout import labels
from rollout.demand import COMPONENTS
from rollout.i18n import Lang, t
from rollout.linkbudget import CLUTTER_CODES
from rollout.propagation import cell_range_m
from rollout.writers import GeoLayers, Table, write_file

__all__ = [
    "demand_lines",
    "localised_sites",
    "site_rationale",
    "site_rows",
    "sites_artefact",
    "street_lines",
    "streets_table",
    "write_sites",
    "write_streets",
]

SITE_COLUMNS = [
    "rank",
    "candidate_id",
    "name",
    "street_code",
    "type",
    "lon",
    "lat",
    "band",
    "height_m",
    "clutter",
    "range_m",
    "driver",
    "households",
    "compounds",
    "area_km2",
    "traffic_mbps",
    "offload_mbps",
    "neighbours",
    "weak_mr_samples",
    "complaints",
    "nearest_station_m",
    "marginal_demand",
    "cumulative_demand",
]


def site_rows(order, n_greedy, candidates, stations, coverage, points, demand, settings, *, clutter_codes) -> gpd.GeoDataFrame:
    """One row per chosen site (see the module docstring), WGS-84 points."""
    component = pd.Categorical(points["component"], categories=list(COMPONENTS)).codes
    open_q = points["open"].to_numpy(float)
    traffic = points["traffic_mbps"].to_numpy(float)
    labels = points["label"].astype(str).to_numpy()
    best_site = points["best_site"].astype(str).to_numpy()
    weights = np.array([settings.weights.as_dict()[c] for c in COMPONENTS])
    covered = np.zeros(len(points), dtype=bool)
    taken = np.zeros(len(points), dtype=bool)
    is_traffic = component == COMPONENTS.index("traffic_mbps")
    is_household = component == COMPONENTS.index("households")
    csr = coverage.tocsr()
    rows = []
    anchors = np.column_stack([demand.stations["x"], demand.stations["y"]]) if len(demand.stations) else np.zeros((0, 2))
    chosen_xy: list[tuple[float, float]] = []
    for rank, j in enumerate(order, start=1):
        row = csr.indices[csr.indptr[j] : csr.indptr[j + 1]]
        new = row[~covered[row]]
        gains = np.bincount(component[new], weights=open_q[new], minlength=len(COMPONENTS))
        off = row[is_traffic[row] & ~taken[row]]
        by_neighbour = pd.Series(traffic[off], index=best_site[off]).groupby(level=0).sum()
        by_neighbour = by_neighbour[(by_neighbour.index != "") & (by_neighbour > 0.05)].sort_values(ascending=False, kind="stable")
        compounds = [labels[i] for i in new[is_household[new] & (open_q[new] > 0)]]
        covered[row] = True
        taken[off] = True
        x, y = candidates.at[j, "x"], candidates.at[j, "y"]
        others = np.vstack([anchors, np.array(chosen_xy).reshape(-1, 2)])
        nearest = float(np.min(np.hypot(others[:, 0] - x, others[:, 1] - y))) if len(others) else np.nan
        chosen_xy.append((x, y))
        weighted = gains * weights
        rows.append(
            {
                "rank": rank,
                "candidate_id": candidates.at[j, "candidate_id"],
                "name": candidates.at[j, "name"],
                "street_code": candidates.at[j, "street_code"],
                "type": candidates.at[j, "type"],
                "lon": round(float(candidates.at[j, "lon"]), 6),
                "lat": round(float(candidates.at[j, "lat"]), 6),
                "band": stations.at[j, "band"],
                "height_m": round(float(stations.at[j, "height_m"]), 1),
                "clutter": CLUTTER_CODES[int(clutter_codes[j])],
                "driver": COMPONENTS[int(np.argmax(weighted))] if rank <= n_greedy and weighted.sum() > 0 else "densify",
                **{c: float(g) for c, g in zip(COMPONENTS, gains, strict=True)},
                "compounds": ";".join(compounds),
                "offload_mbps": round(float(by_neighbour.sum()), 1),
                "neighbours": ";".join(by_neighbour.index[:3]),
                "nearest_station_m": round(nearest),
                "marginal_demand": round(float(weighted.sum()), 4),
            }
        )
    sites = pd.DataFrame(rows, columns=[c for c in SITE_COLUMNS if c != "range_m"] if rows else SITE_COLUMNS)
    if len(sites):
        sites["range_m"] = _ranges(stations.iloc[list(order)].reset_index(drop=True), sites["clutter"], settings)
        sites["area_km2"] = sites["area_km2"].round(3)
        sites["households"] = sites["households"].round().astype(int)
        sites["traffic_mbps"] = sites["traffic_mbps"].round(1)
        sites["weak_mr_samples"] = sites["weak_mr_samples"].round().astype(int)
        sites["complaints"] = sites["complaints"].round().astype(int)
        sites["cumulative_demand"] = sites["marginal_demand"].cumsum().round(4)
    sites = sites.reindex(columns=SITE_COLUMNS)
    return gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(sites["lon"], sites["lat"]), crs=4326)


def _ranges(stations: pd.DataFrame, clutter: pd.Series, settings) -> np.ndarray:
    """Outdoor cell range of each site in its own clutter class (the smaller of the two links)."""
    r = settings.receiver
    loss = clutter.map({c: settings.clutters[c].loss_db for c in CLUTTER_CODES}).to_numpy(float)
    mapl = np.minimum(stations["dl_budget_dbm"].to_numpy(float) - r.rsrp_threshold_dbm, stations["ul_budget_db"].to_numpy(float)) - loss
    ranges = cell_range_m(
        r.model,
        stations["f_mhz"].to_numpy(float),
        stations["height_m"].to_numpy(float),
        mapl,
        tilt_deg=stations["tilt_deg"].to_numpy(float),
        beamwidth_deg=stations["beamwidth_deg"].to_numpy(float),
        h_ut_m=r.ue_height_m,
    )
    return np.round(ranges).astype(int)


def site_rationale(site: pd.Series, lang: Lang) -> str:
    """Why this site, in words: what it serves and the load it takes off its neighbours."""
    parts = []
    if site["households"] > 0:
        names = site["compounds"].replace(";", t("planning.why.list_sep", lang))
        parts.append(t("planning.why.households", lang, households=f"{int(site['households']):,}", compounds=names))
    if site["area_km2"] >= 0.001:
        parts.append(t("planning.why.area", lang, km2=f"{site['area_km2']:.2f}"))
    if site["weak_mr_samples"] > 0:
        parts.append(t("planning.why.mr", lang, samples=f"{int(site['weak_mr_samples']):,}"))
    if site["complaints"] > 0:
        parts.append(t("planning.why.complaints", lang, n=int(site["complaints"])))
    if site["traffic_mbps"] >= 0.1:
        parts.append(t("planning.why.traffic", lang, mbps=f"{site['traffic_mbps']:.0f}"))
    if site["offload_mbps"] >= 1:
        neighbours = site["neighbours"].replace(";", t("planning.why.list_sep", lang))
        parts.append(t("planning.why.offload", lang, mbps=f"{site['offload_mbps']:.0f}", sites=neighbours))
    if site["driver"] == "densify":
        parts.append(t("planning.why.densify", lang, metres=int(site["nearest_station_m"])))
    return t("planning.why.join", lang).join(parts)


def demand_lines(demand: pd.DataFrame, lang: Lang) -> list[str]:
    """Per component: total, served by the fixed stations, open, added by the plan, and the weight."""
    lines = [t("planning.demand.heading", lang)]
    for row in demand.to_dict("records"):
        name = t(f"planning.component.{row['component']}", lang)
        if not row["given"]:
            lines.append(t("planning.demand.not_given", lang, name=name))
            continue
        numbers = {key: _number(float(row[key])) for key in ("total", "fixed", "open", "added")}
        unit = t(f"planning.unit.{row['component']}", lang)
        lines.append(t("planning.demand.line", lang, name=name, unit=unit, weight=f"{row['weight']:g}", **numbers))
    return lines


def street_lines(streets: pd.DataFrame, lang: Lang) -> list[str]:
    """Per street: quota and placed; for a shortfall, which street and why."""
    lines = [t("planning.streets.heading", lang)]
    for row in streets[streets["selected"]].to_dict("records"):
        street = row[labels.street_name_column(lang)]
        numbers = {key: row[key] for key in ("remaining", "pipeline", "quota", "placed")}
        lines.append(t("planning.streets.line", lang, street=street, **numbers))
        if row["shortfall"] > 0:
            lines.append("    " + _shortfall(row, street, lang))
    return lines


def _shortfall(row: dict, street: str, lang: Lang) -> str:
    """Why a street's quota was not filled, in words ("" when it was)."""
    if not row["reason"]:
        return ""
    counts = {key: row[key] for key in ("candidates", "excluded", "too_close")}
    return t(f"planning.shortfall.{row['reason']}", lang, street=street, n=row["shortfall"], **counts)


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value else "0"


def localised_sites(sites: gpd.GeoDataFrame, lang: Lang) -> pd.DataFrame:
    """The sites table for people: a rationale column and words for the codes."""
    table = pd.DataFrame(sites.drop(columns="geometry"))
    if "street_name_en" in table:
        table["street_name"] = table[labels.street_name_column(lang)]
        table = table.drop(columns="street_name_en")
    table["rationale"] = [site_rationale(row, lang) for _, row in table.iterrows()]
    sep = t("planning.why.list_sep", lang)
    table["compounds"] = table["compounds"].fillna("").str.replace(";", sep)
    table["neighbours"] = table["neighbours"].fillna("").str.replace(";", sep)
    table["driver"] = table["driver"].map(lambda c: t(f"planning.driver.{c}", lang))
    table["clutter"] = table["clutter"].map(lambda c: t(f"coverage.clutter.{c}", lang))
    table["type"] = table["type"].map(lambda c: t(f"planning.type.{c}", lang))
    return table


def sites_artefact(sites: gpd.GeoDataFrame, path: Path | str, lang: Lang) -> Table | GeoLayers:
    """The ranked sites for ``path``: a table with the rationale (CSV/XLSX), or points (GeoJSON)."""
    table = localised_sites(sites, lang)
    if Path(path).suffix.lower() == ".geojson":
        return GeoLayers({"sites": gpd.GeoDataFrame(table, geometry=sites.geometry.to_numpy(), crs=4326)})
    return Table(table, headers=_headers(table.columns, lang), sheet_name=t("planning.sheet", lang))


def streets_table(streets: pd.DataFrame, lang: Lang) -> Table:
    """The per-street quota table (with the reason for any shortfall)."""
    name = labels.street_name_column(lang)
    table = streets[streets["selected"]].drop(columns=["selected", *(c for c in ("street_name", "street_name_en") if c != name)])
    table = table.rename(columns={name: "street_name"})
    table["reason"] = [_shortfall(row, row["street_name"], lang) for row in table.to_dict("records")]
    return Table(table, headers=_headers(table.columns, lang))


def write_sites(sites: gpd.GeoDataFrame, path: Path | str, lang: Lang) -> Path:
    """Write the ranked sites as CSV/XLSX (with rationale) or GeoJSON, atomically."""
    return write_file(path, sites_artefact(sites, path, lang))


def write_streets(streets: pd.DataFrame, path: Path | str, lang: Lang) -> Path:
    """Write the per-street quota table as CSV/XLSX, atomically."""
    return write_file(path, streets_table(streets, lang))


def _headers(columns, lang: Lang) -> dict[str, str] | None:
    """Chinese headers under ``zh``; the canonical column names under ``en``."""
    return {c: t(f"planning.column.{c}", lang) for c in columns} if lang == "zh" else None
