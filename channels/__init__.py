"""Channel adapters (e-mail, SMS, WhatsApp, IVR, registered mail). None are wired yet."""

__all__: list[str] = []
