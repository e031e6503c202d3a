"""rollout: plan and track mobile-network rollout, street by street.

The library reads site records (macro stations, garage compounds), places each in one
street, and computes progress toward the district's targets. The ``rollout`` command is a
thin layer over these functions.
"""

from rollout.boundaries import fetch_streets, import_streets, read_streets
from rollout.config import Config, load_config, read_targets
from rollout.crs import to_wgs84
from rollout.errors import BoundaryError, ConfigError, InputFileError, RolloutError
from rollout.join import assign_streets, place_sites
from rollout.pipeline import Project, load_project
from rollout.progress import street_progress
from rollout.records import SiteLoad, read_sites
from rollout.status import status_as_of

__version__ = "0.1.0"

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
]
