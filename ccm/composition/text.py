"""Text shaping shared by channels and the lint: whitespace, HTML to text, search form."""

import re
import unicodedata
from html import unescape
from html.parser import HTMLParser

__all__ = [
    "LONG_VALUE",
    "contains",
    "html_to_text",
    "one_line",
    "paragraphs",
    "searchable",
    "spoken_text",
]


def one_line(text: str) -> str:
    """All whitespace runs, newlines included, become one space."""
    return " ".join(text.split())


def paragraphs(text: str) -> str:
    """Trim lines, keep single line breaks, squeeze blank-line runs to one.

    Only spaces and tabs are squeezed: no-break spaces (as in ``R$\u00a01.234,50``) stay.
    """
    lines = [re.sub(r"[ \t]+", " ", line).strip(" \t") for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"style", "script", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


class _QuoteExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "q":
            self._depth += 1
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "q" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.parts.append(data)


def spoken_text(html: str) -> str:
    """The text inside ``<q>`` elements: what a call script tells the agent to say."""
    parser = _QuoteExtractor()
    parser.feed(html)
    return one_line(unescape(" ".join(parser.parts)))


def html_to_text(html: str) -> str:
    """The visible text of an HTML document, whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(html)
    return one_line(unescape("".join(parser.parts)))


def searchable(text: str) -> str:
    """Normal form for "does this text contain that value": NFKC, single spaces.

    NFKC turns no-break spaces (used by CLDR money formats) and typographic ligatures
    from PDF text extraction into their plain forms.
    """
    return one_line(unicodedata.normalize("NFKC", text))


LONG_VALUE = 20


def _bounded(value: str, *, tail: bool = True) -> re.Pattern[str]:
    """``value`` whole at a digit edge: "47 dias" is not in "147 dias", "R$ 47" not in
    "R$ 47,50". Letter edges stay free: text extraction glues neighbouring boxes."""
    start = r"(?<!\w)(?<!\d[.,])" if value[:1].isdigit() else ""
    end = r"(?!\w)(?![.,]\d)" if tail and value[-1:].isdigit() else ""
    return re.compile(start + re.escape(value) + end)


def contains(text: str, value: str) -> bool:
    """Whether ``value`` appears in ``text`` as a whole, both in :func:`searchable` form.

    Long values (20 characters or more) may also match with all whitespace removed:
    PDF text extraction breaks long tokens (a PIX payload, a boleto line) and sentences
    where they wrap. There a value starting with a digit must still start there (the
    next word is glued to its end); short values must match whole at their digit edges.
    """
    if _bounded(value).search(text):
        return True
    compact = "".join(value.split())
    if len(compact) < LONG_VALUE:
        return False
    return bool(_bounded(compact, tail=False).search("".join(text.split())))
