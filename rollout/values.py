"""Vectorised parsers for the cells people type: numbers, coordinates, dates, vocabularies.

Each parser takes a pandas Series of strings (blank = missing) and returns the parsed
Series aligned to it plus a boolean Series marking the cells that were given but could
not be read, so that the caller can report them with their row and column.

The common cases run in pyarrow's compute kernels (text cells are Arrow strings in pandas 3):
a plain number is cast at C speed, an ASCII cell skips Unicode normalisation; only the cells
that need it (full-width digits, units, degrees-minutes-seconds) take a slower path, and
values that repeat (dates, statuses) are parsed once per distinct value.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rollout.schema import FALSE_WORDS, TRUE_WORDS, normalize_token

__all__ = [
    "map_values",
    "normalize_text",
    "normalize_text_columns",
    "parse_bools",
    "parse_coordinate_columns",
    "parse_coordinates",
    "parse_date_columns",
    "parse_dates",
    "parse_multi",
    "parse_number_columns",
    "parse_numbers",
    "parse_vocab",
    "strip_invisible",
    "text_array",
]

_EXCEL_EPOCH = np.datetime64("1899-12-30")
_YMD = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_SERIAL = re.compile(r"^(?P<n>\d{5})(?:\.0+)?$")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_OF_DAY = re.compile(r"[T\s]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[年月/.]")
_DAY_MARK = re.compile(r"[日号]$")
_NUMBER_JUNK = re.compile(r"[\s,°度'′\"″]|[a-zA-Z]+$|^[a-zA-Z]+")
#: A character outside those NFKC leaves as they are in Chinese text (printable ASCII, CJK
#: unified ideographs, 、。〃 and the CJK brackets 〈〉《》「」『』【】).
_NFKC_MAY_CHANGE = r"[^\x{20}-\x{7e}\t\x{3001}-\x{3003}\x{3008}-\x{3011}\x{4e00}-\x{9fff}]"
_PLAIN_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
#: Degrees, minutes and seconds as people write them (after NFKC: ″ becomes ′′), with an
#: optional hemisphere before or after: 121°24′07″E, 东经121度24分7秒, N31°15'30".
_DMS = re.compile(
    r"^(?P<pre>[ENSWensw]|东经|西经|北纬|南纬|东|西|北|南)?\s*(?P<d>\d+(?:\.\d+)?)\s*(?:°|度)\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:′|'|’|分)\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:′′|″|\"|''|”|秒)\s*)?"
    r"(?P<post>[ENSWensw]|东|西|北|南)?$"
)
_DMS_MARKS = re.compile(r"[°度′″分秒]")
_MINUTE_MARKS = re.compile(r"[°度].*\d.*[′″'\"’”分秒]")

#: Years outside this range are taken as typing mistakes.
DATE_YEARS = (1990, 2100)


def _present(values: pd.Series) -> pd.Series:
    return pd.Series(_present_array(text_array(values)), index=values.index)


def text_array(values: pd.Series) -> pa.Array:
    """The cells as an Arrow string array (no copy for pandas 3's Arrow-backed ``str`` columns)."""
    if values.dtype != "str":
        values = values.fillna("").astype(str)
    array = pa.array(values)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _series(array: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    return pd.Series(array.to_pandas().array, index=index) if len(index) else pd.Series([], index=index, dtype=str)


def normalize_text(values: pd.Series) -> pd.Series:
    """Cells NFKC-normalised (full-width letters and digits become plain ones) and stripped of
    surrounding spaces. Only cells with a character that NFKC may change are normalised:
    ASCII and common Chinese text (CJK unified ideographs, 、。《》【】) skip it.

    >>> normalize_text(pd.Series([" PT-1 ", "ＰＴ－２", "曹杨"])).tolist()
    ['PT-1', 'PT-2', '曹杨']
    """
    text = text_array(values)
    if not pc.all(pc.string_is_ascii(text)).as_py():
        changing = pc.fill_null(pc.match_substring_regex(text, _NFKC_MAY_CHANGE), False)
        if pc.any(changing).as_py():
            text = pc.replace_with_mask(text, changing, pc.utf8_normalize(pc.filter(text, changing), "NFKC"))
    return _series(pc.utf8_trim_whitespace(text), values.index)


def strip_invisible(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Cells without invisible format characters (Unicode category Cf: zero-width spaces,
    joiners, byte-order marks, direction marks), and a mask of the cells that had some.

    >>> cleaned, changed = strip_invisible(pd.Series(["PT\u200b1", "PT2"]))
    >>> cleaned.tolist(), changed.tolist()
    (['PT1', 'PT2'], [True, False])
    """
    text = text_array(values)
    ascii_ = pc.string_is_ascii(text)
    if pc.all(ascii_).as_py():
        return values, pd.Series(False, index=values.index)
    cleaned = pc.replace_substring_regex(text, pattern=r"\p{Cf}", replacement="")
    changed = pc.not_equal(pc.utf8_length(cleaned), pc.utf8_length(text)).to_numpy(zero_copy_only=False)
    return _series(cleaned, values.index), pd.Series(changed, index=values.index)


def invisible_characters(text: str) -> str:
    """The invisible format characters in ``text``, named by code point (``U+200B``)."""
    import unicodedata

    return " ".join(dict.fromkeys(f"U+{ord(c):04X}" for c in str(text) if unicodedata.category(c) == "Cf"))


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse decimal numbers, tolerating full-width digits, units and thousands separators.

    >>> parsed, bad = parse_numbers(pd.Series(["121.4", "１２１.５", "31.2°", "", "东经"]))
    >>> parsed.tolist()[:3], bad.tolist()
    ([121.4, 121.5, 31.2], [False, False, False, False, True])
    """
    parsed, bad, _ = _numbers(values)
    return parsed, bad


def _numbers(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """:func:`parse_numbers`, and the cells that were not plain numbers (the only ones that may
    hold units, separators or degrees-minutes-seconds)."""
    text = text_array(values)
    plain = pc.fill_null(pc.match_substring_regex(text, _PLAIN_NUMBER), False)
    cast = pc.cast(pc.utf8_trim_whitespace(pc.if_else(plain, text, None)), pa.float64())
    parsed = pd.Series(cast.to_numpy(zero_copy_only=False), index=values.index, dtype=float)
    present = pd.Series(_present_array(text), index=values.index)
    retry = present & ~pd.Series(plain.to_numpy(zero_copy_only=False), index=values.index)
    if retry.any():  # the rare cells with units, full-width digits or separators
        raw = values[retry].astype(str)
        cleaned = normalize_text(raw).str.replace(_NUMBER_JUNK, "", regex=True)
        parsed[retry] = pd.to_numeric(cleaned.astype(object), errors="coerce").astype(float)
    bad = present & (parsed.isna() | ~np.isfinite(parsed.fillna(0.0)))
    return parsed.where(~bad), bad, retry


def parse_coordinates(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse longitudes or latitudes: decimal degrees, or degrees-minutes-seconds
    (``121°24′07″E``, ``东经121度24分7秒``) converted to decimal degrees.

    Returns the values, the cells that cannot be read, and among those the ones written as
    degrees-minutes-seconds that are not valid (minutes or seconds of 60 or more, ...).

    >>> parsed, bad, dms = parse_coordinates(pd.Series(["121.4", "121°24′07″E", "31度15分", "121°75′", "东经121度"]))
    >>> [round(v, 4) for v in parsed.fillna(0)], bad.tolist(), dms.tolist()
    ([121.4, 121.4019, 31.25, 0.0, 0.0], [False, False, False, True, True], [False, False, False, True, False])
    """
    parsed, bad, retry = _numbers(values)
    candidates = retry.copy()
    if candidates.any():
        candidates[retry] = values[retry].astype(str).str.contains(_DMS_MARKS, regex=True)
    if not candidates.any():
        return parsed, bad, pd.Series(False, index=values.index)
    parts = normalize_text(values[candidates]).str.extract(_DMS)
    degrees = pd.to_numeric(parts["d"], errors="coerce")
    minutes = pd.to_numeric(parts["m"], errors="coerce")
    seconds = pd.to_numeric(parts["s"], errors="coerce").fillna(0.0)
    south_west = (parts["pre"].fillna("") + parts["post"].fillna("")).str.contains("[WSws西南]", regex=True)
    # Whole degrees alone (东经121度) are no position: only forms with minutes are converted.
    written = degrees.notna() & minutes.notna()
    readable = written & (degrees <= 180) & (minutes < 60) & (seconds < 60)
    value = (degrees + minutes.fillna(0.0) / 60 + seconds / 3600) * np.where(south_west, -1.0, 1.0)
    parsed, bad = parsed.copy(), bad.copy()
    parsed[readable[readable].index] = value[readable]
    bad[readable[readable].index] = False
    wrong = (written & ~readable)[lambda m: m].index  # minutes or seconds of 60 or more
    parsed[wrong], bad[wrong] = np.nan, True
    unreadable = pd.Series(False, index=values.index)
    unreadable[readable.index] = bad[readable.index] & (written | values[candidates].astype(str).str.contains(_MINUTE_MARKS, regex=True))
    return parsed, bad, unreadable


def _present_array(text: pa.Array) -> np.ndarray:
    blank = pc.or_(pc.equal(pc.utf8_length(text), 0), pc.utf8_is_space(text))
    return ~pc.fill_null(blank, True).to_numpy(zero_copy_only=False)


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse dates as people type them into ``datetime64[ns]`` (NaT where blank or bad).

    Accepted: ``2024-03-05``, ``2024/3/5``, ``2024.3.5``, ``2024年3月5日``, ``20240305``,
    ISO date-times and Excel serial numbers (``45356``). Day-first forms such as
    ``05/03/2024`` are ambiguous and rejected.

    >>> parsed, bad = parse_dates(pd.Series(["2024年3月5日", "2024.3.5", "20240305", "45356", "2024-02-30"]))
    >>> [d.strftime("%Y-%m-%d") if pd.notna(d) else None for d in parsed], bad.tolist()
    (['2024-03-05', '2024-03-05', '2024-03-05', '2024-03-05', None], [False, False, False, False, True])
    """
    # Dates repeat (a few hundred days over any number of rows): each distinct text is read
    # once, by plain Python (cheaper than a dozen pandas text operations on a few values),
    # and the results are spread to the rows by numpy.
    positions, distinct = pd.factorize(values.fillna("").astype(str))
    read = [_read_date(text) for text in distinct]
    days = np.array([np.datetime64("NaT") if day is None else day for _, day in read], dtype="datetime64[D]")
    bad = np.array([present and day is None for present, day in read], dtype=bool)
    parsed = pd.Series(days[positions].astype("datetime64[ns]"), index=values.index)
    return parsed, pd.Series(bad[positions], index=values.index)


def _read_date(text: str) -> tuple[bool, np.datetime64 | None]:
    """Whether ``text`` holds anything, and the day it names (None when blank or unreadable)."""
    if _ISO_DAY.fullmatch(text):  # the common 2024-03-05 needs none of the clean-up below
        return True, _day_of(_YMD.match(text))
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return False, None
    unified = _DAY_MARK.sub("", _SEPARATORS.sub("-", _SPACES.sub("", _TIME_OF_DAY.sub("", text))))
    match = _YMD.search(unified) or _COMPACT.search(unified)
    if match:  # then it is no serial number either
        return True, _day_of(match)
    serial = _SERIAL.search(unified)
    if serial and 20000 <= _whole(serial["n"]) <= 80000:
        return True, _EXCEL_EPOCH + np.timedelta64(_whole(serial["n"]), "D")
    return True, None


def _day_of(match: re.Match | None) -> np.datetime64 | None:
    """The day of a year-month-day match, when it is a plausible date that exists."""
    assert match is not None
    year, month, day = (_whole(match[g]) for g in ("y", "m", "d"))
    if not (DATE_YEARS[0] <= year <= DATE_YEARS[1] and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    try:
        return np.datetime64(dt.date(year, month, day), "D")
    except ValueError:  # 30 February
        return None


def _whole(digits: str) -> int:
    """A run of digits as a number; -1 for digits of other scripts (٢٠٢٤), which are no date."""
    return int(digits) if digits.isascii() else -1


def parse_date_columns(frame: pd.DataFrame, columns: list[str]) -> dict[str, tuple[pd.Series, pd.Series]]:
    """:func:`parse_dates` of several columns in one pass (the fixed cost of the text operations
    is paid once, not per column; the same dates repeat across columns too).

    >>> frame = pd.DataFrame({"a": ["2024-03-05", ""], "b": ["2024年3月6日", "x"]})
    >>> {c: (p.dt.day.tolist(), b.tolist()) for c, (p, b) in parse_date_columns(frame, ["a", "b"]).items()}
    {'a': ([5.0, nan], [False, False]), 'b': ([6.0, nan], [False, True])}
    """
    return _column_wise(frame, columns, parse_dates)


def parse_number_columns(frame: pd.DataFrame, columns: list[str]) -> dict[str, tuple[pd.Series, pd.Series]]:
    """:func:`parse_numbers` of several columns in one pass (the fixed cost of the Arrow kernels
    is paid once, not per column).

    >>> frame = pd.DataFrame({"a": ["1", "x"], "b": ["２", ""]})
    >>> {c: (p.tolist(), b.tolist()) for c, (p, b) in parse_number_columns(frame, ["a", "b"]).items()}
    {'a': ([1.0, nan], [False, True]), 'b': ([2.0, nan], [False, False])}
    """
    return _column_wise(frame, columns, parse_numbers)


def parse_coordinate_columns(frame: pd.DataFrame, columns: list[str]) -> dict[str, tuple[pd.Series, pd.Series, pd.Series]]:
    """:func:`parse_coordinates` of several columns (longitudes and latitudes) in one pass.

    >>> {c: v.tolist() for c, (v, _, _) in parse_coordinate_columns(pd.DataFrame({"x": ["121.5"], "y": ["31度15分"]}), ["x", "y"]).items()}
    {'x': [121.5], 'y': [31.25]}
    """
    return _column_wise(frame, columns, parse_coordinates)


def normalize_text_columns(frame: pd.DataFrame, columns: list[str]) -> dict[str, pd.Series]:
    """:func:`normalize_text` of several columns in one pass.

    >>> {c: v.tolist() for c, v in normalize_text_columns(pd.DataFrame({"a": [" x "], "b": ["ＰＴ"]}), ["a", "b"]).items()}
    {'a': ['x'], 'b': ['PT']}
    """
    return {column: parts[0] for column, parts in _column_wise(frame, columns, lambda text: (normalize_text(text),)).items()}


def _column_wise(frame: pd.DataFrame, columns: list[str], parse) -> dict[str, Any]:
    """``parse`` (cells -> a tuple of Series) of several columns: stacked into one column,
    parsed in one call, and each result split back into the columns."""
    if not columns:
        return {}
    arrays = [text_array(frame[c]).cast(pa.large_string()) for c in columns]
    results = parse(_series(pa.concat_arrays(arrays), pd.RangeIndex(len(frame) * len(columns))))
    n = len(frame)
    return {c: tuple(pd.Series(r.array[i * n : (i + 1) * n], index=frame.index) for r in results) for i, c in enumerate(columns)}


def map_distinct(values: pd.Series, function) -> pd.Series:
    """Apply a Python ``function`` once per distinct cell and spread the results.

    Site files repeat the same statuses, operators and dates on every row, so this turns a
    per-row Python loop into a per-value one, with the spreading done by numpy.
    """
    codes, uniques = pd.factorize(values if values.dtype == "str" else values.fillna("").astype(str))
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [function(u) for u in uniques]
    results[-1] = None
    return pd.Series(results[codes], index=values.index, dtype=object)


def map_values(values: pd.Series, mapping: Mapping[Any, Any] | pd.Series) -> pd.Series:
    """``values.map(mapping)`` (missing where not found), looked up once per distinct value: fast
    for the columns of codes and names that repeat over many rows.

    >>> map_values(pd.Series(["a", "b", "a", None]), {"a": 1}).tolist()
    [1, None, 1, None]
    """
    lookup = mapping.to_dict() if isinstance(mapping, pd.Series) else mapping
    codes, uniques = pd.factorize(values)
    found = np.empty(len(uniques) + 1, dtype=object)
    found[:-1] = [lookup.get(u) for u in uniques]
    found[-1] = None
    return pd.Series(found[codes], index=values.index, dtype=object)


def _tokens(values: pd.Series) -> pd.Series:
    """``normalize_token`` of each cell, computed once per distinct value."""
    return map_distinct(values, normalize_token)


def parse_vocab(values: pd.Series, index: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Map cells to canonical words through ``index`` (normalised alias -> canonical)."""
    present = _present(values)
    parsed = map_distinct(values, lambda cell: index.get(normalize_token(cell)))
    bad = present & parsed.isna()
    return parsed.where(present), bad


_MULTI_SPLIT = re.compile(r"[/、,，;；+&|\s和及]+")


def parse_multi(values: pd.Series, index: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Map cells holding several words (``移动/电信``, ``CMCC, CT``) to ``;``-joined codes.

    Codes keep the order of ``index``'s canonical values, so the result is stable.
    """
    order = {code: i for i, code in enumerate(dict.fromkeys(index.values()))}
    present = _present(values)

    def one(cell: str) -> str | None:
        words = [w for w in _MULTI_SPLIT.split(str(cell)) if w]
        codes = {index.get(normalize_token(w)) for w in words}
        if not words or None in codes:
            return None
        return ";".join(sorted(codes, key=order.__getitem__))  # type: ignore[arg-type]

    parsed = map_distinct(values, one).where(present)
    bad = present & parsed.isna()
    return parsed, bad


def parse_bools(values: pd.Series, *, default: bool | None) -> tuple[pd.Series, pd.Series]:
    """Parse yes/no cells (是/否, Y/N, 1/0, true/false); blank cells take ``default``.

    With ``default=None`` the result is a nullable boolean: blank means unknown.
    """
    present = _present(values)
    tokens = _tokens(values)
    parsed = pd.Series(default, index=values.index, dtype=bool if default is not None else "boolean")
    parsed[tokens.isin(TRUE_WORDS)] = True
    parsed[tokens.isin(FALSE_WORDS)] = False
    bad = present & ~tokens.isin(TRUE_WORDS | FALSE_WORDS)
    return parsed, bad


def to_iso(dates: pd.Series) -> pd.Series:
    """Format dates as ``YYYY-MM-DD`` strings (empty where missing)."""
    return dates.dt.strftime("%Y-%m-%d").fillna("")


def as_date(value: dt.date | str | None) -> dt.date | None:
    """Accept a date or a string a person typed, return a date (None stays None)."""
    if value is None or isinstance(value, dt.date):
        return value
    _, day = _read_date(str(value))
    if day is None:  # unreadable, or blank (which is no day either)
        from rollout.errors import InvalidValueError

        raise InvalidValueError("errors.date_unreadable", value=value)
    return day.astype(dt.date)
