"""HTTP API (FastAPI). Empty until the service exists; the engine is used through the CLI."""

__all__: list[str] = []
