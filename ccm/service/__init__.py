"""The service layer: accepting requests, running jobs, access keys."""

__all__: list[str] = []
