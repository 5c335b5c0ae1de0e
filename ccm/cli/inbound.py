"""``ccm inbound``: read what comes back by mail (read receipts, bounces) from a mailbox."""

import time
from typing import Annotated

import typer
from rich.console import Console

from ccm.cli.app import app, err, fail, guarded, settings
from ccm.errors import ChannelError

__all__ = ["imap", "inbound_app"]

inbound_app = typer.Typer(
    help="What comes back from recipients and providers.", no_args_is_help=True
)
app.add_typer(inbound_app, name="inbound")
out = Console(highlight=False, soft_wrap=True)


@inbound_app.command()
def imap(
    url: Annotated[
        str | None,
        typer.Option(
            help="imaps://user:password@host/INBOX (default: CCM_IMAP_URL).", show_default=False
        ),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Read the mailbox once and exit.")] = False,
    interval: Annotated[
        int, typer.Option(min=5, help="Seconds between reads when not --once.")
    ] = 60,
) -> None:
    """Record the read receipts (RFC 8098) and bounces (RFC 3464) in the mailbox.

    Each message handled gets an IMAP keyword ($CcmRecorded, or $CcmIgnored for what is
    not a report about a message ccm sent, left unread); nothing is deleted.
    """
    from ccm.bootstrap import poll_inbound_mailbox

    config = settings()
    target = url or (config.imap_url.get_secret_value() if config.imap_url else None)
    if not target:
        fail("give --url or set CCM_IMAP_URL (imaps://user:password@host/INBOX)")
    while True:
        with guarded():
            try:
                result = poll_inbound_mailbox(config, target)
            except ChannelError as error:
                if once:
                    raise
                # a service: a server hiccup is reported and the next read tries again
                err.print(f"imap: {error}", markup=False)
                time.sleep(interval)
                continue
        out.print(f"recorded {result.recorded}, ignored {result.ignored}")
        for problem in result.failed:
            err.print(f"left for the next read: {problem}", markup=False)
        if once:
            if result.failed:
                raise typer.Exit(1)
            return
        time.sleep(interval)
