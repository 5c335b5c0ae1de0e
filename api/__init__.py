"""The HTTP API (FastAPI), versioned under ``/v1``."""

__all__: list[str] = []
