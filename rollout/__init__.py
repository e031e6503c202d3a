"""rollout: plan and track mobile-network rollout, street by street.

The library reads site records (macro stations, garage compounds), places each in one
street, and computes progress toward the district's targets. The ``rollout`` command is a
thin layer over these functions.

Importing ``rollout`` is cheap: the public names below are imported on first use, so that
``rollout --help`` does not pay for geopandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS = {
    "BoundaryError": "rollout.errors",
    "Config": "rollout.config",
    "ConfigError": "rollout.errors",
    "InputFileError": "rollout.errors",
    "Project": "rollout.pipeline",
    "RolloutError": "rollout.errors",
    "SiteLoad": "rollout.records",
    "assign_streets": "rollout.join",
    "fetch_streets": "rollout.boundaries",
    "import_streets": "rollout.boundaries",
    "load_config": "rollout.config",
    "load_project": "rollout.pipeline",
    "place_sites": "rollout.join",
    "read_sites": "rollout.records",
    "read_streets": "rollout.boundaries",
    "read_targets": "rollout.config",
    "status_as_of": "rollout.status",
    "street_progress": "rollout.progress",
    "to_wgs84": "rollout.crs",
    "total_row": "rollout.progress",
}

__all__ = [
    "BoundaryError",
    "Config",
    "ConfigError",
    "InputFileError",
    "Project",
    "RolloutError",
    "SiteLoad",
    "__version__",
    "assign_streets",
    "fetch_streets",
    "import_streets",
    "load_config",
    "load_project",
    "place_sites",
    "read_sites",
    "read_streets",
    "read_targets",
    "status_as_of",
    "street_progress",
    "to_wgs84",
    "total_row",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'rollout' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from rollout.boundaries import fetch_streets, import_streets, read_streets
    from rollout.config import Config, load_config, read_targets
    from rollout.crs import to_wgs84
    from rollout.errors import BoundaryError, ConfigError, InputFileError, RolloutError
    from rollout.join import assign_streets, place_sites
    from rollout.pipeline import Project, load_project
    from rollout.progress import street_progress, total_row
    from rollout.records import SiteLoad, read_sites
    from rollout.status import status_as_of
