"""Registered letters with AR through Correios, by way of the operator's print house.

"Sending" a letter queues it for the next print batch with its S10 tracking code (the
provider message id); ``ccm mail export`` produces the batch and ``ccm mail import-ar``
brings the AR returns back as evidence (see :mod:`ccm.service.mail`). Queuing is
idempotent: a retried send finds the letter and its label.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from ccm.errors import PermanentChannelError
from ccm.ports import OutgoingMessage, SendReceipt
from ccm.service.mail import LabelRange, queue_letter
from channels.base import CallbackChannel, now, receipt

__all__ = ["CorreiosChannel"]


class CorreiosChannel(CallbackChannel):
    """Implements :class:`ccm.ports.ChannelAdapter` for ``registered_mail``."""

    channel = "registered_mail"
    provider = "correios"

    def __init__(
        self, engine: Engine, labels: LabelRange, *, clock: Callable[[], datetime] = now
    ) -> None:
        self._engine = engine
        self._labels = labels
        self._clock = clock

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Queue the signed letter for printing.

        Raises:
            PermanentChannelError: the message is not a PDF or has no postal address.
            ChannelError: the label range is used up.
        """
        addressee = json.loads(message.address or "null")
        if message.media_type != "application/pdf" or not isinstance(addressee, dict):
            raise PermanentChannelError("a registered letter needs a PDF and a postal address")
        at = self._clock()
        code = queue_letter(
            self._engine,
            self._labels,
            communication_id=message.communication_id,
            addressee=addressee,
            pdf_sha256=hashlib.sha256(message.payload).hexdigest(),  # as the store keys it
            now=at,
        )
        return receipt(self.provider, code, at, tracking_code=code, state="queued")

    # The AR comes back through `ccm mail import-ar`.
