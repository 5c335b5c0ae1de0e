"""HTML to PDF/A-3b with WeasyPrint, kept warm across documents.

One :class:`PdfRenderer` per process holds the font configuration, the parsed shared
and per-template stylesheets and an image cache for the brand assets, so each
document pays only for its own layout. Measured on this machine, re-parsing CSS and
``@font-face`` per document costs 13-25% more (shared/reference/perf.md section 2).
Output is deterministic: the same HTML, stylesheets and fonts give the same bytes;
dates come from the HTML ``<meta>`` tags, never the clock.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from ccm.errors import TemplateSecurityError

__all__ = ["ConfinedFetcher", "PdfRenderer", "RenderedPdf"]


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


class ConfinedFetcher(URLFetcher):  # type: ignore[misc]
    """Fetches ``data:`` URLs and files under the allowed folders, nothing else.

    Template sources are data written by content teams: without this, an ``<img>`` or
    ``<link rel="attachment">`` could put any readable file (the signing key, say) into
    a PDF, or make the renderer call URLs. Any refusal stops the rendering.
    """

    def __init__(self, allowed_roots: Sequence[Path]) -> None:
        super().__init__(fail_on_errors=True, allowed_protocols=("data", "file"))
        self._roots = tuple(root.resolve() for root in allowed_roots)

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path)).resolve()
            if not any(path.is_relative_to(root) for root in self._roots):
                raise ValueError(f"{path} is outside the template library")
        return super().fetch(url, headers)


class PdfRenderer:
    """Renders HTML documents to PDF/A-3b A4 pages, fetching only allowed resources.

    Safe to share between threads: one rendering at a time, because Pango's shared font
    map (kept warm in :attr:`_fonts`) is not thread-safe (concurrent layouts crashed a
    worker with ``pango_font_metrics_get_approximate_char_width`` assertions). Render in
    parallel with processes, one renderer each.
    """

    def __init__(self, *, allowed_roots: Sequence[Path], pdf_variant: str = "pdf/a-3b") -> None:
        self._lock = threading.RLock()
        self._fetcher = ConfinedFetcher(allowed_roots)
        self._fonts = FontConfiguration()
        self._variant = pdf_variant
        self._cache = _AssetCache()
        self._sheets: dict[str, CSS] = {}

    def stylesheet(self, *, path: Path | None = None, text: str | None = None) -> CSS:
        """A parsed stylesheet from a file or a string, parsed once per renderer."""
        key = f"file:{path}" if path is not None else f"text:{text}"
        with self._lock:
            return self._stylesheet(key, path, text)

    def _stylesheet(self, key: str, path: Path | None, text: str | None) -> CSS:
        if key not in self._sheets:
            if path is not None:
                sheet = CSS(filename=str(path), font_config=self._fonts, url_fetcher=self._fetcher)
            else:
                sheet = CSS(string=text or "", font_config=self._fonts, url_fetcher=self._fetcher)
            self._sheets[key] = sheet
        return self._sheets[key]

    def render(self, html: str, *, base_url: str, stylesheets: Sequence[CSS] = ()) -> RenderedPdf:
        """Lay out ``html`` with ``stylesheets`` (from :meth:`stylesheet`) and write it.

        Raises:
            TemplateSecurityError: the document refers to a resource it may not load.
        """
        with self._lock:
            return self._render(html, base_url, stylesheets)

    def _render(self, html: str, base_url: str, stylesheets: Sequence[CSS]) -> RenderedPdf:
        try:
            document = HTML(string=html, base_url=base_url, url_fetcher=self._fetcher).render(
                stylesheets=list(stylesheets),
                font_config=self._fonts,
                cache=self._cache,
            )
            pdf = document.write_pdf(pdf_variant=self._variant)
        except FatalURLFetchingError as err:
            reason = err.__cause__ or err
            raise TemplateSecurityError(f"refused resource: {reason}") from err
        return RenderedPdf(pdf=pdf, pages=len(document.pages))
