"""The weekly pack's map (``index.html``), modelled and drawn in a second process.

The coverage model and the map need folium and the radio model, which take longer to import
than the map takes to draw. ``rollout weekly`` starts :func:`map_helper` once pandas and
geopandas are imported and before the site files are read: the helper imports the rest on the
other core while this process reads, then gets the loaded project (pickled: a few milliseconds for
a district's records) and returns the page as text, while this process makes the tables and the
weekly helper (:mod:`rollout.weekly_helper`) the chart and the brief. Without a helper, or for a
project too large to send cheaply, :func:`pack_map` runs here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rollout.executors import Helper, importing

if TYPE_CHECKING:
    from rollout.i18n import Lang
    from rollout.network import ExistingNetwork
    from rollout.pipeline import Project

__all__ = ["MAP_HELPER_RECORDS", "map_helper", "pack_map", "sendable"]

#: Records (macro stations and garages together) up to which the project is sent to the map
#: helper; above it sending them would cost more than the imports the helper saves.
MAP_HELPER_RECORDS = 100_000


def map_helper() -> Helper:
    """A :class:`~rollout.executors.Helper` for :func:`pack_map`, forked once this process has
    pandas and geopandas (which it needs too), importing folium and the coverage model meanwhile."""
    importlib.import_module("rollout.pipeline")  # pandas and geopandas: the helper inherits them
    return Helper(_WARM_UP)


def sendable(project: Project) -> bool:
    """Whether ``project`` is small enough to send to the map helper (:data:`MAP_HELPER_RECORDS`)."""
    return sum(len(load.records) for load in (project.macro, project.garage)) <= MAP_HELPER_RECORDS


def pack_map(
    project: Project,
    *,
    existing: ExistingNetwork | None,
    changed: dict[str, Iterable[str]],
    basemap: str,
    title: str,
    subtitle: str,
    notes: Iterable[str],
    lang: Lang,
) -> str:
    """The pack's page: the coverage (with ``existing``, the existing network) modelled for the
    project's day, the register's open conflicts when the records came from it, and the map of
    streets, sites (``changed``: record ids per kind whose status changed this week) and coverage."""
    from rollout.coverage import coverage_analysis
    from rollout.maps import build_map, render_map

    coverage = coverage_analysis(project, existing=existing)
    layers: list[Any] = []
    if project.register is not None:  # records from the register: its open conflicts on the map
        from rollout.register.weekly import conflict_layers

        layers = conflict_layers(project.register.conflicts, basemap=basemap, lang=lang)
    fmap = build_map(
        project.streets,
        project.progress(),
        project.macro.records,
        project.garage.records,
        as_of=project.as_of,
        title=title,
        subtitle=subtitle,
        notes=notes,
        changed=changed,
        basemap=basemap,
        tianditu_key=project.config.tianditu_key,
        approximate=project.approximate,
        coverage=coverage,
        aggregate_above=project.config.map_aggregate_above,
        layers=layers,
        lang=lang,
    )
    return render_map(fmap)


_WARM_UP = (importing("rollout.maps", "rollout.coverage", "rollout.map_layers", "rollout.map_data"),)
