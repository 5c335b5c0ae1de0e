"""``ccm db upgrade``: apply the database migrations."""

import typer
from rich.console import Console

from ccm.cli.app import app, guarded, settings

__all__ = ["db_app", "upgrade"]

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
out = Console(highlight=False)


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration to CCM_DATABASE_URL (SQLite under CCM_HOME by default)."""
    from ccm.persistence import create_database_engine, upgrade_database

    config = settings()
    with guarded():
        engine = create_database_engine(config.resolved_database_url)
        upgrade_database(engine)
    out.print(f"database at {engine.url.render_as_string(hide_password=True)} is up to date")
