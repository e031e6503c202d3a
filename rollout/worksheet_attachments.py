"""The point map supplied per compound: ``data/attachments/<compound_id>/plan.png|jpg|jpeg|pdf``
(a garage floor plan with the antenna points), checked and made ready for the page.

A missing file is no problem (the location map is drawn instead). A file that cannot be read,
is not a PNG, JPEG or PDF, or is over 20 MB gives a problem (a code with its parameters) that the
worksheet names on the page and the command prints; the worksheet is written all the same.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from rollout.writers import safe_filename

__all__ = ["MAX_BYTES", "PlanImage", "plan_image"]

MAX_BYTES = 20 * 1024 * 1024
_NAMES = ("plan.png", "plan.jpg", "plan.jpeg", "plan.pdf")
_MAX_PIXELS = 1400  # longest side kept: sharp on A4, light in the PDF


@dataclass(frozen=True)
class PlanImage:
    """The attachment as a data URI for the page (None when there is none to show), its size in
    pixels (width, height) and its problem."""

    data_uri: str | None
    path: Path | None
    problem: dict | None = None
    size: tuple[int, int] | None = None


def plan_image(attachments: Path, compound_id: str) -> PlanImage:
    """The compound's point map, if any, read and checked (never raises for a bad file)."""
    folder = attachments / safe_filename(compound_id)
    if not folder.is_dir():
        return PlanImage(None, None)
    candidates = [folder / name for name in _NAMES if (folder / name).exists()]
    others = sorted(p for p in folder.glob("plan.*") if p.name.lower() not in _NAMES)
    if not candidates:
        if others:
            return PlanImage(None, others[0], {"code": "attachment_not_image", "path": str(others[0])})
        return PlanImage(None, None)
    path = candidates[0]
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return PlanImage(
                None, path, {"code": "attachment_too_large", "path": str(path), "size_mb": round(size / 2**20, 1), "limit_mb": 20}
            )
        data = path.read_bytes()
    except OSError as e:
        return PlanImage(None, path, {"code": "attachment_unreadable", "path": str(path), "detail": e.strerror or str(e)})
    if data.startswith(b"%PDF"):
        return _from_pdf(data, path)
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return _from_image(data, path)
    return PlanImage(None, path, {"code": "attachment_not_image", "path": str(path)})


def _from_image(data: bytes, path: Path) -> PlanImage:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            uri, size = _png_uri(image)
            return PlanImage(uri, path, size=size)
    except Exception as e:  # PIL raises many kinds for a broken file
        return PlanImage(None, path, {"code": "attachment_unreadable", "path": str(path), "detail": type(e).__name__})


def _from_pdf(data: bytes, path: Path) -> PlanImage:
    try:
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
        page = document[0]
        scale = min(3.0, _MAX_PIXELS / max(page.get_size()))
        image = page.render(scale=scale).to_pil()
        document.close()
        uri, size = _png_uri(image)
        return PlanImage(uri, path, size=size)
    except Exception as e:  # a damaged PDF
        return PlanImage(None, path, {"code": "attachment_unreadable", "path": str(path), "detail": type(e).__name__})


def _png_uri(image) -> tuple[str, tuple[int, int]]:
    image = image.convert("RGB")
    image.thumbnail((_MAX_PIXELS, _MAX_PIXELS))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii"), image.size
