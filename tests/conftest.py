"""Shared fixtures: one CCM_HOME (and development PKI) per test session, real composers."""

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import templates
from ccm.bootstrap import build_composer
from ccm.composition import Composer
from ccm.config import Settings
from signing import DevelopmentPki, ensure_development_pki

NOTICE_SAMPLE = templates.ROOT / "delinquency_notice" / "pt-BR" / "sample.json"


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ccm-home")


@pytest.fixture(scope="session")
def settings(home: Path) -> Settings:
    return Settings(home=home)


@pytest.fixture(scope="session")
def pki(settings: Settings) -> DevelopmentPki:
    return ensure_development_pki(settings.pki_dir)


@pytest.fixture(scope="session")
def composer(settings: Settings, pki: DevelopmentPki) -> Composer:
    """Signs with the development PKI and the in-process timestamp authority."""
    return build_composer(settings)


@pytest.fixture(scope="session")
def unsigned_composer(settings: Settings) -> Composer:
    return build_composer(settings, sign=False)


@pytest.fixture
def notice_data() -> dict[str, Any]:
    """A fresh, mutable copy of the delinquency notice sample."""
    return copy.deepcopy(json.loads(NOTICE_SAMPLE.read_text(encoding="utf-8")))


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    """A writable copy of the template library, for tests that break templates on purpose."""
    root = tmp_path / "templates"
    shutil.copytree(templates.ROOT, root, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return root


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    """Replace one exact snippet in a file, failing loudly if it is not there."""

    def replace(path: Path, old: str, new: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not found in {path}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return replace


def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output (never raising on a non-zero exit)."""
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
