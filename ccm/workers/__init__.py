"""Workers: the Dramatiq broker, the job actor and the outbox relay."""

__all__: list[str] = []
