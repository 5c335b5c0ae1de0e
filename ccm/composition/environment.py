"""The one Jinja2 environment that renders every template source.

Sandboxed and immutable (template authors cannot reach Python internals or mutate the
data they are given), autoescaping HTML, and strict about undefined names: printing,
iterating or computing with one fails the render instead of putting an empty string
into a legal document. Testing one (``{% if payer.email %}``) is allowed and false,
because optional fields are simply absent from valid data.

Sources are also scanned when loaded: attribute and item names starting with an
underscore (directly, or as a filter's attribute argument) are refused before the
template runs, with the line number; names built at run time, or hidden in format
strings, are left to the sandbox, which refuses them when rendered.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ccm.composition.filters import LOCALES, filters_for
from ccm.errors import TemplateSecurityError

__all__ = ["OptionalUndefined", "build_environment", "refuse_private_access"]

_ESCAPED = (".html.j2", ".xml.j2", ".html")


class OptionalUndefined(StrictUndefined):
    """Strict everywhere except in a truth test, where a missing optional field is false."""

    # StrictUndefined makes __bool__ raise; a test of an absent field is just false.
    def __bool__(self) -> bool:  # type: ignore[override]
        return False


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith(_ESCAPED)


def _names(node: nodes.Node) -> list[object]:
    """The attribute or item names a node reaches for, when they are constants."""
    if isinstance(node, nodes.Getattr):
        return [node.attr]
    if isinstance(node, nodes.Getitem):
        return [getattr(node.arg, "value", None)]
    assert isinstance(node, nodes.Filter)
    # attr("x"), groupby("x"), map(attribute="x"), sort(attribute="x"), sum(attribute=...)
    names = [getattr(arg, "value", None) for arg in node.args[:1]]
    return names + [getattr(kw.value, "value", None) for kw in node.kwargs if kw.key == "attribute"]


def refuse_private_access(source: str, *, name: str, environment: Any) -> None:
    """Raise if ``source`` names any attribute or item that starts with ``_``.

    The sandbox already blocks these at run time; refusing at load time reports the
    line to the author even for branches the sample data never reaches.

    Raises:
        TemplateSecurityError: naming the source and line.
    """
    tree = environment.parse(source, name=name)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        for key in _names(node):
            if isinstance(key, str) and any(part.startswith("_") for part in key.split(".")):
                raise TemplateSecurityError(
                    f"line {node.lineno}: access to {key!r} is not allowed in templates",
                    template=name,
                )


class _CheckingLoader(FileSystemLoader):
    """A file loader that refuses sources reaching for private attributes."""

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        refuse_private_access(source, name=template, environment=environment)
        return source, filename, uptodate


def build_environment(roots: Sequence[Path], *, locale: str) -> ImmutableSandboxedEnvironment:
    """The rendering environment for one locale of the library at ``roots`` (searched in
    order: an overlay first, then the library)."""
    if locale not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}; known: {', '.join(LOCALES)}")
    env = ImmutableSandboxedEnvironment(
        loader=_CheckingLoader([str(root) for root in roots]),
        autoescape=_autoescape,
        undefined=OptionalUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.filters.update(filters_for(locale))
    env.globals["locale"] = locale
    return env
