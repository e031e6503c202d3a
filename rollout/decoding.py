"""Which encoding a text file is in, and its text as a stream of UTF-8 bytes.

People send CSV files in UTF-8 (with or without a BOM), UTF-16 (with a BOM, from Excel's
"Unicode text") or GB18030/GBK (Excel and WPS on Chinese Windows). :func:`sniff_encoding`
decides from the head of the file (64 KB) without looking at characters one by one: a BOM
names the encoding, else the head is decoded as UTF-8, else as GB18030, each by the C codec.
The rest of the file is checked while it is parsed: when a later byte does not fit,
:func:`diagnose` reads the whole file once and says what is wrong (a few broken bytes in a
UTF-8 file, lines of two encodings mixed in one file, or bytes of no known encoding), or
finds that a file whose head was plain ASCII is GB18030 after all.

:func:`open_utf8` gives the text as UTF-8 bytes (the BOM removed), transcoding GB18030 and
UTF-16 in blocks, so that a large file is never held twice in memory.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np

from rollout.errors import InputFileError

__all__ = ["HEAD_BYTES", "diagnose", "line_starts", "open_utf8", "sniff_encoding"]

#: Bytes read to decide the encoding and find the header.
HEAD_BYTES = 1 << 16
#: Bytes transcoded at a time.
_BLOCK = 1 << 22
#: UTF-8 text before the first bad byte that makes a file "UTF-8 with broken bytes" rather than
#: GB18030: this many non-ASCII bytes (two Chinese characters).
_UTF8_EVIDENCE = 6
#: A UTF-8 character of three or four bytes (Chinese, emoji).
_THREE_BYTES = re.compile(rb"[\xe0-\xf4][\x80-\xbf]{2}")


def sniff_encoding(path: Path, head: bytes, *, complete: bool = False) -> str:
    """The encoding of a file from its first bytes (``complete``: the whole file): ``utf-8``,
    ``utf-8-sig``, ``utf-16`` or ``gb18030``.

    A head that is neither UTF-8 nor GB18030, UTF-8 text followed by a byte that is not, or a
    BOM followed by bytes of another encoding is diagnosed on the whole file (:func:`diagnose`),
    which raises the message that fits.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            try:
                codecs.getincrementaldecoder("utf-16" if name == "utf-16" else "utf-8-sig")("strict").decode(head, final=complete)
            except UnicodeDecodeError:
                diagnose(path, name)
            return name
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError as e:
        before = np.frombuffer(head[: e.start], dtype=np.uint8)
        if np.count_nonzero(before >= 0x80) >= _UTF8_EVIDENCE:
            return diagnose(path, "utf-8")  # UTF-8 text, then something else
    try:
        codecs.getincrementaldecoder("gb18030")("strict").decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        return diagnose(path, "gb18030")


def diagnose(path: Path, tried: str) -> str:
    """Read the whole file and name the encoding that reads every line, or raise the message that
    says what is wrong with it (called when ``tried`` failed somewhere in the file).

    Only lines with non-ASCII bytes are looked at, each decoded by the C codecs: this is the
    slow path of a file that is broken or mixed, or GB18030 behind an ASCII head.
    """
    data = path.read_bytes()
    if tried == "utf-16":
        _strict(path, data, "utf-16", "UTF-16")
        return tried
    utf8, gb, neither = _classify_lines(data.removeprefix(codecs.BOM_UTF8))
    if tried == "utf-8-sig" and not neither and not gb:
        return tried
    if neither:
        if utf8 and not gb:
            raise InputFileError("errors.utf8_invalid", path=path, line=neither[0], lines=_listed(neither), count=len(neither))
        raise InputFileError("errors.encoding_unknown", path=path, line=neither[0])
    if gb and utf8:
        raise InputFileError(
            "errors.encoding_mixed", path=path, utf8_line=utf8[0], utf8_count=len(utf8), other_line=gb[0], other_count=len(gb)
        )
    return "gb18030" if gb else "utf-8"


def _strict(path: Path, data: bytes, encoding: str, name: str) -> None:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[: e.start].decode(encoding, errors="replace").count("\n") + 1
        raise InputFileError("errors.encoding_invalid", path=path, encoding=name, line=line) from e


def _classify_lines(data: bytes) -> tuple[list[int], list[int], list[int]]:
    """Line numbers (1-based) of the lines with non-ASCII bytes that are UTF-8 (with a character
    of three bytes or more: two-byte sequences also occur by chance in GB18030 text), that are
    GB18030 only, and that are neither."""
    raw = np.frombuffer(data, dtype=np.uint8)
    starts = line_starts(raw)
    ends = np.append(starts[1:], len(raw))
    wide = np.flatnonzero(np.add.reduceat(raw >= 0x80, starts, dtype=np.int64) > 0) if len(raw) else np.array([], dtype=np.int64)
    utf8: list[int] = []
    gb: list[int] = []
    neither: list[int] = []
    for index in wide:
        line = data[starts[index] : ends[index]]
        try:
            line.decode("utf-8")
            if _THREE_BYTES.search(line) or _not_gb(line):
                utf8.append(int(index) + 1)
            else:
                gb.append(int(index) + 1)
            continue
        except UnicodeDecodeError:
            pass
        try:
            line.decode("gb18030")
            gb.append(int(index) + 1)
        except UnicodeDecodeError:
            neither.append(int(index) + 1)
    return utf8, gb, neither


def _not_gb(line: bytes) -> bool:
    try:
        line.decode("gb18030")
        return False
    except UnicodeDecodeError:
        return True


def _listed(lines: list[int], shown: int = 5) -> str:
    text = ", ".join(str(n) for n in lines[:shown])
    return text + (", …" if len(lines) > shown else "")


def line_starts(raw: np.ndarray) -> np.ndarray:
    """Offsets where each line of ``raw`` (bytes as uint8) starts; ``\\n``, ``\\r\\n`` and a lone ``\\r`` end a line."""
    starts = np.concatenate([[0], _line_ends(raw) + 1])
    return starts[starts < len(raw)] if len(raw) else np.zeros(1, dtype=np.int64)


def _line_ends(raw: np.ndarray) -> np.ndarray:
    """Index of the last byte of each line end in ``raw``; a ``\\r`` at the very end counts as one."""
    newline = raw == 0x0A
    lone_cr = raw == 0x0D
    lone_cr[:-1] &= ~newline[1:]
    return np.flatnonzero(newline | lone_cr)


def open_utf8(path: Path, encoding: str, *, from_line: int = 1) -> BinaryIO:
    """The file's text from line ``from_line`` on, as a readable stream of UTF-8 bytes without a BOM.

    UTF-8 files are read as they are; GB18030 and UTF-16 are transcoded block by block (a byte
    that does not decode raises :class:`UnicodeDecodeError` when the reader reaches it).
    """
    blocks = _utf8_blocks(path, encoding)
    if encoding not in ("utf-8", "utf-8-sig"):
        blocks = _ahead(blocks)  # transcode the next blocks while the parser works on this one
    if from_line > 1:
        blocks = _from_line(blocks, from_line - 1)
    return cast(BinaryIO, _BlockStream(blocks))


def _ahead(blocks: Iterator[bytes], depth: int = 2) -> Iterator[bytes]:
    """``blocks`` produced by a background thread, up to ``depth`` blocks ahead of the reader."""
    import queue
    import threading

    done = object()
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for block in blocks:
                while not stop.is_set():
                    try:
                        ready.put(block, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(done)
        except BaseException as e:  # handed to the reader, which raises it
            ready.put(e)

    thread = threading.Thread(target=produce, name="rollout-transcode", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _utf8_blocks(path: Path, encoding: str) -> Iterator[bytes]:
    with path.open("rb") as handle:
        if encoding in ("utf-8", "utf-8-sig"):
            first = True
            while block := handle.read(_BLOCK):
                if first and block.startswith(codecs.BOM_UTF8):
                    block = block[len(codecs.BOM_UTF8) :]
                first = False
                yield block
            return
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        while True:
            block = handle.read(_BLOCK)
            text = decoder.decode(block, final=not block)
            if text:
                yield text.encode("utf-8")
            if not block:
                return


def _from_line(blocks: Iterator[bytes], skip: int) -> Iterator[bytes]:
    """``blocks`` without their first ``skip`` lines."""
    drop_newline = False  # a \r ended a block: a \n opening the next one belongs to it
    for block in blocks:
        if drop_newline and block.startswith(b"\n"):
            block = block[1:]
        drop_newline = False
        if skip <= 0:
            yield block
            continue
        ends = _line_ends(np.frombuffer(block, dtype=np.uint8))
        if len(ends) < skip:
            skip -= len(ends)
            drop_newline = block.endswith(b"\r")
            continue
        cut = int(ends[skip - 1]) + 1
        skip = 0
        drop_newline = cut == len(block) and block.endswith(b"\r")
        if cut < len(block):
            yield block[cut:]


class _BlockStream(io.RawIOBase):
    """A readable raw stream over an iterator of byte blocks."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        super().__init__()
        self._blocks = blocks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not len(self._pending):
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._pending = memoryview(block)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
