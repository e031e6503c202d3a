"""A folium map's page rendered in one pass: what each element renders goes in as it is.

branca renders every element with its Jinja template, then wraps the output in a new
``Element`` whose constructor compiles that output as a Jinja template again, and renders it a
second time in the page. That second pass reads data as template code: a site or street named
``{{ 7*7 }}`` would show as ``49`` (and Jinja code in a site file would run), and compiling
each layer's GeoJSON as a template costs a quarter of the map's time. :func:`render_figure`
renders with the outputs taken literally instead: the same page for ordinary text, with no
second pass.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from branca.element import Element

__all__ = ["Literal", "render_figure"]

#: The modules that wrap rendered output in ``Element(...)`` while rendering.
_WRAPPING_MODULES = ("branca.element", "folium.map", "folium.features")
_lock = threading.Lock()


class Literal(Element):
    """HTML or script put in the page as it is (never read as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Literal"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """The text."""
        return self.text


def render_figure(root: Element) -> str:
    """The page of ``root`` (a folium map's :meth:`get_root`) as text, in one pass."""
    with _literal_outputs():
        return root.render()


def _rendered(template: str | None = None, template_name: str | None = None) -> Element:
    """What ``Element(...)`` makes while rendering: the output already rendered, as it is (less
    the one trailing newline the second pass used to drop), or an ordinary element."""
    if template is None:
        return Element(template_name=template_name)
    return Literal(template.removesuffix("\n"))


@contextlib.contextmanager
def _literal_outputs() -> Iterator[None]:
    import importlib

    modules = [importlib.import_module(name) for name in _WRAPPING_MODULES]
    with _lock:  # one page at a time: the modules' name is swapped while rendering
        saved = [getattr(module, "Element") for module in modules]  # noqa: B009 (a module's name, swapped)
        for module in modules:
            setattr(module, "Element", _rendered)  # noqa: B010
        try:
            yield
        finally:
            for module, original in zip(modules, saved, strict=True):
                setattr(module, "Element", original)  # noqa: B010
