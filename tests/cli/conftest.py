"""The in-process CLI runner shared by the CLI tests."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ccm.cli import app


@pytest.fixture
def cli(home: Path) -> Callable[..., Any]:
    """Invoke ``ccm`` in-process with the session's CCM_HOME (plus any extra variables)."""
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
        return runner.invoke(app, list(args), env={"CCM_HOME": str(home), **(env or {})})

    return invoke
