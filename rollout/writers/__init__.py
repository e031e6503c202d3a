"""Writers: the only code that puts outputs on disk.

Builders (maps, weekly packs, gap reports, worksheets, exports) return artefacts in memory;
these functions write them atomically (a temporary file or folder beside the target, then
``os.replace``), neutralise spreadsheet formulas in CSV/XLSX cells, headers and titles, store
numbers and dates in workbooks as numbers and dates, and make file names safe.

An artefact is ``bytes``, ``str`` (UTF-8 text), a :class:`Table`, a :class:`GeoLayers` or an
openpyxl ``Workbook``; :func:`write_file` writes any of them by
the target's extension, :func:`write_folder` writes a folder of them and swaps it in whole.
"""

from rollout.writers.atomic import atomic_path, safe_filename, tidy, unique_filenames, write_bytes, write_folder, write_text, zip_folder
from rollout.writers.files import GeoLayers, Table, write_file, write_geo, write_table
from rollout.writers.neutral import neutralize_formulas, neutralize_text
from rollout.writers.xlsx import new_workbook, put_rows, put_table, put_title, workbook_bytes

__all__ = [
    "GeoLayers",
    "Table",
    "atomic_path",
    "neutralize_formulas",
    "neutralize_text",
    "new_workbook",
    "put_rows",
    "put_table",
    "put_title",
    "safe_filename",
    "tidy",
    "unique_filenames",
    "workbook_bytes",
    "write_bytes",
    "write_file",
    "write_folder",
    "write_geo",
    "write_table",
    "write_text",
    "zip_folder",
]
