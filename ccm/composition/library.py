"""The template library on disk: template folders, their manifests, schemas and samples.

Layout::

    <root>/
      _shared/            layouts, partials, stylesheets, fonts (used by every template)
      _brands/            operator branding, one folder per brand
      <template_id>/
        manifest.yaml
        <locale>/         schema.json, sample*.json, one source per channel part

Folders starting with ``_`` are not templates. A variant (one locale of one template)
is identified by ``id@version/locale`` and fingerprinted by the SHA-256 of its files, so
every rendering can record exactly which sources produced it.

A library may have an *overlay*: a folder of whole template folders (versions written
through the API, see :mod:`ccm.service.templates`) that take the place of the same
templates at ``root``, while ``_shared`` and ``_brands`` still come from ``root``.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jsonschema import Draft202012Validator, SchemaError
from pydantic import ValidationError

from ccm.composition.channels import SOURCES
from ccm.composition.digests import tree_digest
from ccm.composition.environment import build_environment
from ccm.composition.manifest import LocaleSpec, Manifest
from ccm.composition.validation import validator_for
from ccm.errors import ConfigurationError, TemplateError, TemplateNotFound

__all__ = ["RESERVED_NAMES", "TemplateLibrary", "TemplateVariant"]

# libyaml's loader when PyYAML was built with it (it is, in the wheels): ~10x faster.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TEMPLATE_ID = re.compile(r"[a-z][a-z0-9_]*")

RESERVED_NAMES = frozenset({"doc", "brand", "issuer", "links", "call", "item", "locale"})
"""Context names ccm provides; a template's data may not use them at the top level."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateVariant:
    """One locale of one template version, ready to validate data and render."""

    manifest: Manifest
    locale: str
    folder: Path
    schema: dict[str, Any]
    validator: Draft202012Validator = field(repr=False)
    digest: str
    """SHA-256 of the manifest and every file of this locale folder."""
    stylesheet: Path | None
    """The locale folder's ``document.css``, when it has one."""

    @property
    def spec(self) -> LocaleSpec:
        return self.manifest.locales[self.locale]

    @property
    def ref(self) -> str:
        """``id@version/locale``."""
        return f"{self.manifest.id}@{self.manifest.version}/{self.locale}"

    @property
    def title(self) -> str:
        return self.spec.title

    def source(self, name: str) -> str:
        """The loader name of a source file of this variant."""
        return f"{self.manifest.id}/{self.locale}/{name}"

    def samples(self) -> list[tuple[str, dict[str, Any]]]:
        """The sample data files declared by the manifest, parsed.

        Raises:
            TemplateError: a sample is missing or is not a JSON object.
        """
        out = []
        for name in self.spec.samples:
            path = self.folder / name
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as err:
                raise TemplateError(f"sample {name}: {err}", template=self.ref) from err
            if not isinstance(data, dict):
                raise TemplateError(f"sample {name} must be a JSON object", template=self.ref)
            out.append((name, data))
        return out


class TemplateLibrary:
    """Reads templates from ``root``.

    Loaded variants and environments are kept for the life of the instance: a
    long-lived renderer must not re-read manifests per document. Build a new library
    to see edited sources.
    """

    def __init__(self, root: Path, *, overlay: Path | None = None) -> None:
        if not root.is_dir():
            raise ConfigurationError(f"template library {root} is not a folder (CCM_TEMPLATES_DIR)")
        self.root = root.resolve()
        self.overlay = overlay.resolve() if overlay is not None else None
        self._manifests: dict[str, Manifest] = {}
        self._variants: dict[tuple[str, str], TemplateVariant] = {}
        self._environments: dict[str, ImmutableSandboxedEnvironment] = {}

    @cached_property
    def shared_digest(self) -> str:
        """SHA-256 of the shared layouts, partials, stylesheets and fonts."""
        shared = self.root / "_shared"
        return tree_digest([p for p in shared.rglob("*") if p.is_file()], base=self.root)

    def ids(self) -> list[str]:
        """Template ids, sorted."""
        roots = [self.root] if self.overlay is None else [self.root, self.overlay]
        return sorted(
            {
                p.name
                for root in roots
                for p in root.iterdir()
                if p.is_dir() and not p.name.startswith("_") and (p / "manifest.yaml").exists()
            }
        )

    def home(self, template_id: str) -> Path:
        """The library root holding ``template_id``'s folder: the overlay's, if it has one."""
        if self.overlay is not None and (self.overlay / template_id / "manifest.yaml").exists():
            return self.overlay
        return self.root

    def folder(self, template_id: str) -> Path:
        """The folder of ``template_id`` (whether or not it exists)."""
        return self.home(template_id) / template_id

    def manifest(self, template_id: str) -> Manifest:
        """The parsed manifest of ``template_id``.

        Raises:
            TemplateNotFound: no such template.
            TemplateError: the manifest is not valid.
        """
        if template_id in self._manifests:
            return self._manifests[template_id]
        if not _TEMPLATE_ID.fullmatch(template_id):
            raise TemplateNotFound("no such template", template=template_id)
        path = self.folder(template_id) / "manifest.yaml"
        if not path.exists():
            known = ", ".join(self.ids())
            raise TemplateNotFound(f"no such template; known: {known}", template=template_id)
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YamlLoader)
            manifest = Manifest.model_validate(raw)
        except (yaml.YAMLError, ValidationError) as err:
            raise TemplateError(f"invalid manifest.yaml: {err}", template=template_id) from err
        if manifest.id != template_id:
            raise TemplateError(
                f"manifest id {manifest.id!r} differs from its folder", template=template_id
            )
        self._manifests[template_id] = manifest
        return manifest

    def variant(self, template_id: str, locale: str | None = None) -> TemplateVariant:
        """Load one locale of a template (the first locale by default).

        Raises:
            TemplateNotFound: unknown template or locale.
            TemplateError: invalid manifest or schema, or a missing channel source.
        """
        manifest = self.manifest(template_id)
        locale = locale or manifest.default_locale
        key = (template_id, locale)
        if key in self._variants:
            return self._variants[key]
        if locale not in manifest.locales:
            raise TemplateNotFound(
                f"no locale {locale!r}; it has {', '.join(manifest.locales)}", template=template_id
            )
        home = self.home(template_id)
        folder = home / template_id / locale
        ref = f"{template_id}@{manifest.version}/{locale}"
        missing = [
            name
            for channel in manifest.locales[locale].channels
            for name in SOURCES[channel]
            if not (folder / name).exists()
        ]
        if missing:
            raise TemplateError(f"missing sources: {', '.join(missing)}", template=ref)
        try:
            schema = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
            validator = validator_for(schema)
        except (OSError, json.JSONDecodeError, SchemaError) as err:
            raise TemplateError(f"invalid schema.json: {err}", template=ref) from err
        if "issue_date" not in schema.get("required", []):
            raise TemplateError(
                "schema.json must require issue_date: documents take their date from the request",
                template=ref,
            )
        clash = RESERVED_NAMES & set(schema.get("properties", {}))
        if clash:
            raise TemplateError(
                f"schema uses names reserved by ccm: {', '.join(sorted(clash))}", template=ref
            )
        files = [p for p in folder.rglob("*") if p.is_file()]
        files.append(home / template_id / "manifest.yaml")
        variant = TemplateVariant(
            manifest=manifest,
            locale=locale,
            folder=folder,
            schema=schema,
            validator=validator,
            digest=tree_digest(files, base=home),
            stylesheet=folder / "document.css" if (folder / "document.css").exists() else None,
        )
        self._variants[key] = variant
        return variant

    def environment(self, locale: str) -> ImmutableSandboxedEnvironment:
        """The sandboxed Jinja2 environment for ``locale`` over this library."""
        if locale not in self._environments:
            roots = [self.root] if self.overlay is None else [self.overlay, self.root]
            self._environments[locale] = build_environment(roots, locale=locale)
        return self._environments[locale]
