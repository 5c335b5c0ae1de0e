"""HTML to PDF/A-3b with WeasyPrint, kept warm across documents.

One :class:`PdfRenderer` per process holds the font configuration, the parsed shared
and per-template stylesheets and an image cache for the brand assets, so each
document pays only for its own layout. Measured on this machine, re-parsing CSS and
``@font-face`` per document costs 13-25% more (shared/reference/perf.md section 2).
Output is deterministic: the same HTML, stylesheets and fonts give the same bytes;
dates come from the HTML ``<meta>`` tags, never the clock.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

__all__ = ["PdfRenderer", "RenderedPdf"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderedPdf:
    pdf: bytes
    pages: int


class _AssetCache(dict[str, Any]):
    """WeasyPrint's image cache, minus ``data:`` URLs.

    Every QR code is a distinct data URL; caching them would grow without bound in a
    long-lived worker and keep other recipients' payloads in memory.
    """

    def __setitem__(self, key: str, value: Any) -> None:
        if not key.startswith("data:"):
            super().__setitem__(key, value)


class PdfRenderer:
    """Renders HTML documents to PDF/A-3b A4 pages."""

    def __init__(self, *, pdf_variant: str = "pdf/a-3b") -> None:
        self._fonts = FontConfiguration()
        self._variant = pdf_variant
        self._cache = _AssetCache()
        self._sheets: dict[str, CSS] = {}

    def stylesheet(self, *, path: Path | None = None, text: str | None = None) -> CSS:
        """A parsed stylesheet from a file or a string, parsed once per renderer."""
        key = f"file:{path}" if path is not None else f"text:{text}"
        if key not in self._sheets:
            if path is not None:
                sheet = CSS(filename=str(path), font_config=self._fonts)
            else:
                sheet = CSS(string=text or "", font_config=self._fonts)
            self._sheets[key] = sheet
        return self._sheets[key]

    def render(self, html: str, *, base_url: str, stylesheets: Sequence[CSS] = ()) -> RenderedPdf:
        """Lay out ``html`` with ``stylesheets`` (from :meth:`stylesheet`) and write it."""
        document = HTML(string=html, base_url=base_url).render(
            stylesheets=list(stylesheets),
            font_config=self._fonts,
            cache=self._cache,
        )
        pdf = document.write_pdf(pdf_variant=self._variant)
        return RenderedPdf(pdf=pdf, pages=len(document.pages))
