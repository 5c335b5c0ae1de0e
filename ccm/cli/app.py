"""``ccm``: the command-line entry point.

Exit status: 0 success, 1 a check failed (lint findings) or an operation failed,
2 bad input (data, template name, file, configuration). Errors are one readable
message on stderr, never a traceback.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from ccm.config import Settings
from ccm.errors import (
    CCMError,
    ConfigurationError,
    DataValidationError,
    TemplateNotFound,
    TemplateSecurityError,
)
from ccm.identifiers.errors import InvalidIdentifier

__all__ = ["app", "err", "fail", "guarded", "settings"]

app = typer.Typer(
    name="ccm",
    help="Customer Communications Management: compose, sign and prove regulated notices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)
BAD_INPUT = (
    DataValidationError,
    TemplateNotFound,
    TemplateSecurityError,
    ConfigurationError,
    InvalidIdentifier,
)


def fail(message: str, *, code: int = 2) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def settings() -> Settings:
    """Settings from the environment, or exit 2 naming what is wrong."""
    try:
        return Settings()
    except ConfigurationError as error:
        fail(str(error))
    except ValueError as error:
        fail(f"invalid CCM_* setting: {error}")


@contextmanager
def guarded() -> Iterator[None]:
    """Turn errors into one-line messages and the documented exit codes.

    Anything unexpected still ends in one line and exit 1; ``CCM_DEBUG=1`` re-raises it
    with its traceback for whoever is debugging.
    """
    try:
        yield
    except typer.Exit:
        raise
    except BAD_INPUT as error:
        fail(str(error), code=2)
    except CCMError as error:
        fail(str(error), code=1)
    except Exception as error:
        if os.environ.get("CCM_DEBUG") == "1":
            raise
        fail(f"unexpected {type(error).__name__}: {error} (CCM_DEBUG=1 shows where)", code=1)
