"""Printing a benchmark's figures and keeping them under ``bench/results/``."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["publish"]


def publish(name: str, result: dict[str, Any], *, decimals: int = 2) -> None:
    """Print ``result`` as aligned ``key  value`` lines and save it as
    ``bench/results/<name>-<UTC time>.json``."""
    width = max(map(len, result))
    for key, value in result.items():
        shown = f"{value:,.{decimals}f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")
    Path("bench/results").mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    Path(f"bench/results/{name}-{stamp}.json").write_text(json.dumps(result, indent=2))
