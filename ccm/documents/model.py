"""What a document model adds to a template: domain checks and derived values."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from ccm.errors import DataError

__all__ = ["DocumentInfo", "DocumentModel", "PassThrough", "repeated_competences"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentInfo:
    """Facts about the document being composed, fixed by the request (never the clock)."""

    id: str
    issue_date: date
    title: str
    template: str
    """``id@version/locale`` of the template variant."""
    locale: str
    specimen: bool
    """True when signed with the development PKI: the layout marks it as such."""


class DocumentModel(Protocol):
    """Domain logic of one family of templates, keyed by the manifest's ``model``."""

    completes: frozenset[str]
    """Request fields the model deliberately replaces with a completed version (defaults
    filled in); any other derived name that the data also has is a configuration error."""

    def check(self, data: Mapping[str, Any]) -> list[DataError]:
        """Problems the schema cannot express (cross-field rules); empty when valid."""
        ...

    def derive(self, data: Mapping[str, Any], doc: DocumentInfo) -> dict[str, Any]:
        """Values computed from the data, added to the template context."""
        ...


class PassThrough:
    """The model of templates that need no computation."""

    completes: frozenset[str] = frozenset()

    def check(self, data: Mapping[str, Any]) -> list[DataError]:
        return []

    def derive(self, data: Mapping[str, Any], doc: DocumentInfo) -> dict[str, Any]:
        return {}


def repeated_competences(installments: Sequence[Mapping[str, Any]]) -> list[DataError]:
    """An error for every installment whose competence (month) appeared before."""
    first: dict[str, int] = {}
    errors = []
    for i, installment in enumerate(installments):
        month = installment["competence"]
        if month in first:
            errors.append(
                DataError(
                    path=f"installments[{i}].competence",
                    message=f"repeats installments[{first[month]}]",
                )
            )
        first.setdefault(month, i)
    return errors
