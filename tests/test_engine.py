"""The dask engine gives the same results as the in-memory engine, record for record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import REPO

from rollout.cli import cli
from rollout.engine import cluster, load_project_distributed
from rollout.pipeline import load_project

AS_OF = dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def client():
    with cluster() as running:
        yield running


def _same(memory, distributed) -> None:
    gathered = distributed.gather()
    pd.testing.assert_frame_equal(distributed.progress(), memory.progress())
    for kind in ("macro", "garage"):
        mine, theirs = getattr(memory, kind), getattr(gathered, kind)
        pd.testing.assert_frame_equal(theirs.records, mine.records)
        pd.testing.assert_frame_equal(theirs.problems.reset_index(drop=True), mine.problems.reset_index(drop=True))
        summary, problems = distributed.loads[kind].summary_and_problems()
        pd.testing.assert_frame_equal(summary, mine.summary())
        pd.testing.assert_frame_equal(problems.reset_index(drop=True), mine.problems.reset_index(drop=True))
        assert distributed.loads[kind].rejected_rows() == int(mine.summary()["rejected"].sum())


def test_sample_identical_in_both_engines(client) -> None:
    memory = load_project(REPO / "data", as_of=AS_OF)
    distributed = load_project_distributed(client, REPO / "data", as_of=AS_OF, partitions=4)
    _same(memory, distributed)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """20,000 macro records as Parquet in row groups, with duplicates across groups and bad rows."""
    import shapely

    from rollout.boundaries import district_outline

    folder = tmp_path_factory.mktemp("parquet")
    rng = np.random.default_rng(3)
    outline = district_outline("310107")
    xmin, ymin, xmax, ymax = outline.bounds
    x, y = rng.uniform(xmin - 0.01, xmax + 0.01, 60_000), rng.uniform(ymin, ymax, 60_000)
    inside = shapely.contains_xy(outline, x, y)
    x = np.concatenate([x[inside][:19_900], x[~inside][:100]])
    y = np.concatenate([y[inside][:19_900], y[~inside][:100]])
    n = len(x)
    ids = np.array([f"S{i:05d}" for i in range(n)], dtype=object)
    ids[rng.choice(n, 50, replace=False)] = ids[rng.choice(n, 50, replace=False)]  # duplicates anywhere
    on_air = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    frame = pd.DataFrame(
        {
            "site_id": ids,
            "lon": x.round(6).astype(str),
            "lat": y.round(6).astype(str),
            "status": rng.choice(["已开通", "在建", "规划", "受阻", "???"], n, p=[0.6, 0.2, 0.1, 0.09, 0.01]),
            "on_air_date": on_air.strftime("%Y-%m-%d"),
            "construction_start_date": (on_air - pd.Timedelta(days=30)).strftime("%Y/%m/%d"),
            "operator": rng.choice(["移动", "电信/联通", "广电"], n),
        }
    )
    frame.loc[frame["status"] != "已开通", "on_air_date"] = ""
    path = folder / "macro_stations.parquet"
    frame.to_parquet(path, row_group_size=3_000)
    return path


def test_larger_parquet_set_identical(client, synthetic: Path, data_dir: Path) -> None:
    memory = load_project(data_dir, macro=[synthetic], garage=[], as_of=AS_OF)
    distributed = load_project_distributed(client, data_dir, macro=[synthetic], garage=[], as_of=AS_OF)
    assert len(distributed.loads["macro"].parts) > 1
    assert (memory.macro.problems["reason_code"] == "id_duplicate").sum() >= 40
    assert (memory.macro.problems["reason_code"] == "outside_district").sum() > 0
    _same(memory, distributed)


def test_parquet_folder_through_the_cli(synthetic: Path, data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    memory = runner.invoke(
        cli,
        ["--data", str(data_dir), "validate", str(synthetic.parent), "--kind", "macro", "--rejects", str(tmp_path / "a.csv")],
        catch_exceptions=False,
    )
    dask = runner.invoke(
        cli,
        [
            "--data",
            str(data_dir),
            "validate",
            str(synthetic.parent),
            "--kind",
            "macro",
            "--engine",
            "dask",
            "--rejects",
            str(tmp_path / "b.csv"),
        ],
        catch_exceptions=False,
    )
    assert memory.exit_code == dask.exit_code == 1
    assert memory.output.replace("a.csv", "b.csv") == dask.output
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_progress_cli_identical_with_dask(sample_data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--data", str(sample_data_dir), "progress", "--as-of", "2024-06-30"]
    runner.invoke(cli, [*args, "--out", str(tmp_path / "memory.csv")], catch_exceptions=False)
    result = runner.invoke(
        cli, [*args, "--engine", "dask", "--partitions", "3", "--out", str(tmp_path / "dask.csv")], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert (tmp_path / "memory.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()


def test_register_as_the_source_identical_in_both_engines(client, sample_data_dir: Path, tmp_path: Path) -> None:
    from rollout.boundaries import read_streets
    from rollout.config import load_config
    from rollout.engine import DaskExecutor
    from rollout.register.importer import import_files

    config, db = load_config(sample_data_dir), str(tmp_path / "register.sqlite")
    sites, day = sample_data_dir / "sites", dt.date(2024, 12, 27)
    import_files([sites / "macro_stations.csv"], config, read_streets(config), source="铁塔", as_of=day, db=db)
    import_files([sites / "garage_compounds.csv"], config, read_streets(config), source="长寿路", as_of=day, db=db)
    memory = load_project(sample_data_dir, as_of=day, db=db)
    distributed = load_project(sample_data_dir, as_of=day, db=db, executor=DaskExecutor(client))
    assert memory.register is not None and distributed.gather().register is not None
    assert len(memory.macro.records) == 230 and len(memory.garage.records) == 60
    _same(memory, distributed)
