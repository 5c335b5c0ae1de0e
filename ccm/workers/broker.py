"""The Dramatiq broker from ``CCM_BROKER_URL``: in-memory (embedded), Redis or RabbitMQ.

Built explicitly and passed around; Dramatiq's implicit default broker (RabbitMQ on
localhost) is never used.
"""

import dramatiq
from dramatiq.brokers.stub import StubBroker

from ccm.errors import ConfigurationError

__all__ = ["build_broker"]


def build_broker(url: str | None) -> dramatiq.Broker:
    """``None`` or ``memory://``: in-process; ``redis://``; ``amqp://``.

    Raises:
        ConfigurationError: another scheme.
    """
    if url is None or url.startswith("memory://"):
        broker: dramatiq.Broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)  # type: ignore[no-untyped-call]
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    else:
        raise ConfigurationError(
            "CCM_BROKER_URL must be memory://, redis://... or amqp://... "
            f"(got {url.split('://')[0]}://)"
        )
    dramatiq.set_broker(broker)
    return broker
