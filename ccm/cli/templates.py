"""``ccm templates list|lint``."""

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from ccm.cli.app import app, err, guarded, settings

__all__ = ["lint", "list_templates", "templates_app"]

templates_app = typer.Typer(help="Inspect and check the template library.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")
out = Console(highlight=False)


@templates_app.command("list")
def list_templates() -> None:
    """List templates with their version, locales and channels."""
    from ccm.composition.library import TemplateLibrary

    with guarded():
        library = TemplateLibrary(settings().templates_dir)
        ids = library.ids()
        table = Table(
            Column("id", no_wrap=True, min_width=max(map(len, ids), default=2)),
            *(Column(name, overflow="fold") for name in ("version", "kind", "locale", "channels")),
            Column("title", overflow="fold"),
        )
        for template_id in ids:
            manifest = library.manifest(template_id)
            for locale, spec in manifest.locales.items():
                table.add_row(
                    template_id,
                    manifest.version,
                    manifest.kind,
                    locale,
                    ", ".join(spec.channels),
                    spec.title,
                )
        out.print(table)


@templates_app.command("lint")
def lint(
    template: Annotated[
        str | None, typer.Argument(help="Template id; all templates if omitted.")
    ] = None,
) -> None:
    """Check manifests, sources, samples and mandatory elements in every channel.

    Exit 0 when clean, 1 when anything is found, 2 for an unknown template.
    """
    from ccm.bootstrap import build_composer
    from ccm.composition.lint import lint_templates

    with guarded():
        composer = build_composer(settings(), sign=False)
        ids = [template] if template else None
        if template:
            composer.library.manifest(template)
        findings = lint_templates(composer, ids)
    for finding in findings:
        err.print(f"[red]✗[/] {escape(str(finding))}", markup=True, soft_wrap=True)
    checked = template or f"{len(composer.library.ids())} templates"
    if findings:
        err.print(f"{len(findings)} problem(s) in {checked}")
        raise typer.Exit(1)
    out.print(f"[green]✓[/] {checked}: no problems", markup=True)
