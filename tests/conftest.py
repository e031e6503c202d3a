"""Shared fixtures: a fixed "today", a scratch data folder, and the real Putuo data."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from rollout import settings

REPO = Path(__file__).resolve().parents[1]
#: Real public data about Putuo and Shanghai, beside the repository (never copied into it).
SHARED_DATA = REPO.parent / "shared" / "data"
TODAY = "2026-11-26"


@pytest.fixture(autouse=True)
def _fixed_today_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fix "today" and restore global settings after each test."""
    monkeypatch.setenv("ROLLOUT_TODAY", TODAY)
    monkeypatch.setattr(settings, "data_dir", Path("data"))
    monkeypatch.setattr(settings, "snap_tolerance_m", 50.0)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder with the project's configuration, streets and targets, but no site files."""
    target = tmp_path / "data"
    (target / "boundaries").mkdir(parents=True)
    (target / "sites").mkdir()
    shutil.copy(REPO / "data" / "rollout.toml", target / "rollout.toml")
    shutil.copy(REPO / "data" / "targets.csv", target / "targets.csv")
    shutil.copy(REPO / "data" / "boundaries" / "streets.csv", target / "boundaries" / "streets.csv")
    return target


@pytest.fixture
def sample_data_dir(data_dir: Path) -> Path:
    """The data folder with the bundled sample site files."""
    for name in ("macro_stations.csv", "garage_compounds.csv"):
        shutil.copy(REPO / "data" / "sites" / name, data_dir / "sites" / name)
    return data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real Putuo data; the integration tests need it."""
    assert SHARED_DATA.is_dir(), f"{SHARED_DATA} is missing: the integration tests read ../shared/data"
    return SHARED_DATA


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` (lines joined by \\n) to ``path`` in ``encoding``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


MACRO_HEADER = "站址编码,站名,运营商,经度,纬度,坐标系,所属街道,频段,挂高,状态,受阻原因,落点日期,开工日期,开通日期"
# Points well inside three streets (WGS-84): 长寿路街道, 石泉路街道, 桃浦镇.
INSIDE = {"changshou": (121.4290, 31.2462), "shiquan": (121.4123, 31.2509), "taopu": (121.3775, 31.2829)}


PG_ENV = "ROLLOUT_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def register_db(request, tmp_path: Path) -> str:
    """A fresh, empty register location on each backend (SQLite file; PostgreSQL database)."""
    if request.param == "sqlite":
        yield str(tmp_path / "register.sqlite")
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: run scripts/test, which starts a throwaway PostgreSQL/PostGIS")
    import sqlalchemy as sa

    name = f"rollout_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
