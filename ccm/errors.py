"""Errors ccm raises, grouped by what the caller has to do about them.

::

    Exception
    ├── ConfigurationError          fix the settings; never swallowed by CCMError handlers
    └── CCMError
        ├── DataValidationError     (ValueError) the request data breaks the template contract
        ├── TemplateError
        │   ├── TemplateNotFound    (LookupError) unknown template, locale or channel
        │   ├── TemplateSecurityError  a source tried to reach Python internals
        │   └── TemplateSourceError    a source does not parse or renders with an error
        ├── SigningError            (signing/errors.py adds TimestampError)
        ├── StorageError            an artefact store refused or failed
        │   └── ArtifactNotFound    (LookupError) no artefact under that hash
        ├── EvidenceError           the ledger or a pack cannot do what was asked
        └── ChannelError            a provider refused or failed
            └── PermanentChannelError  refused for good (bad address): do not retry

Each error renders its keyword context in ``str()`` so logs and CLI output name the
template, field or file involved.
"""

from dataclasses import dataclass

__all__ = [
    "ArtifactNotFound",
    "CCMError",
    "ChannelError",
    "ConfigurationError",
    "DataError",
    "DataValidationError",
    "EvidenceError",
    "NotPermitted",
    "PermanentChannelError",
    "SigningError",
    "StateConflict",
    "StorageError",
    "TemplateError",
    "TemplateNotFound",
    "TemplateSecurityError",
    "TemplateSourceError",
]


class ConfigurationError(Exception):
    """A setting is missing, contradictory or unsafe for the environment."""


class CCMError(Exception):
    """Base of every runtime error ccm raises on purpose."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DataError:
    """One problem in request data."""

    path: str
    """Where the problem is, as ``payer.cpf`` or ``installments[2].due_date``."""
    message: str
    """The rule that failed, e.g. ``invalid CPF check digits``."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DataValidationError(CCMError, ValueError):
    """Request data does not satisfy the template's schema or domain rules."""

    def __init__(self, errors: list[DataError], *, template: str | None = None) -> None:
        self.errors = tuple(errors)
        self.template = template
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"invalid data for template {self.template!r}" if self.template else "invalid data"
        return head + ":\n" + "\n".join(f"  {e}" for e in self.errors)


class TemplateError(CCMError):
    """A template cannot be found, loaded or rendered."""

    def __init__(self, message: str, *, template: str | None = None) -> None:
        self.template = template
        super().__init__(f"template {template!r}: {message}" if template else message)


class TemplateNotFound(TemplateError, LookupError):
    """No such template, locale, channel or version in the library."""


class TemplateSecurityError(TemplateError):
    """A template source tried to reach attributes the sandbox forbids."""


class TemplateSourceError(TemplateError):
    """A template source has a syntax error or fails while rendering."""


class SigningError(CCMError):
    """A document or message could not be signed."""


class StorageError(CCMError):
    """An artefact could not be stored or read back intact."""


class ArtifactNotFound(StorageError, LookupError):
    """No artefact is stored under the requested hash."""


class EvidenceError(CCMError):
    """The ledger or an evidence pack cannot do what was asked (unknown id, no events)."""


class ChannelError(CCMError):
    """A provider could not take the message (retried later)."""


class PermanentChannelError(ChannelError):
    """A provider refused the message for good (unknown mailbox, invalid number)."""


class StateConflict(CCMError):
    """The thing asked for conflicts with the current state (a version already approved,
    a number already used)."""


class NotPermitted(CCMError, PermissionError):
    """The caller may not do this to this object (an author approving their own version)."""
