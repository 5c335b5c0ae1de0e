"""Template versions: drafts written by editors, approved by someone else, pinned per send.

The template library on disk holds the versions shipped with the deployment; they count
as approved (origin ``library``) and are registered in ``template_versions`` so that a
communication accepted under one of them can still be composed after an upgrade. Editors
write new versions through the API (origin ``api``)::

    draft --submit (lint passes)--> submitted --approve (not an author)--> approved
      ^                                  |
      +------- edit <--- rejected <--reject (with a reason)

A version holds the whole template folder (``manifest.yaml`` and ``<locale>/<file>``) as
text. Versions are numbered ``MAJOR.MINOR.PATCH``, only upwards, never reused. The
*current* version of a template is its highest approved one; a communication records
the version current when it was accepted and is composed with exactly that version,
wherever and whenever a worker runs it. Approved versions are written once, by digest,
under ``versions_dir`` on each machine that needs them.
"""

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from ccm.composition import Composer, TemplateLibrary
from ccm.composition.lint import lint_template
from ccm.errors import (
    CCMError,
    DataError,
    DataValidationError,
    NotPermitted,
    StateConflict,
    TemplateNotFound,
)
from ccm.persistence.db import upsert_insert
from ccm.persistence.tables import template_versions

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_VERSION_BYTES",
    "Origin",
    "TemplateCatalog",
    "TemplateVersion",
    "VersionState",
    "parse_version",
]

MAX_FILE_BYTES = 256 * 1024
MAX_VERSION_BYTES = 1024 * 1024

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_PATH = re.compile(r"manifest\.yaml|[a-z]{2}-[A-Z]{2}/[A-Za-z0-9_][A-Za-z0-9_.-]*\.(j2|json|css)")
_PATH_RULE = (
    "must be manifest.yaml or <locale>/<name> ending in .j2, .json or .css "
    "(letters, digits, '_', '.', '-'; no sub-folders)"
)
_MANIFEST_VERSION = re.compile(r"^version:.*$", re.M)


class VersionState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class Origin(StrEnum):
    LIBRARY = "library"
    """Shipped in the template library on disk with the deployment."""
    API = "api"
    """Written by an editor through the API."""


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.10.0"`` -> ``(1, 10, 0)``.

    Raises:
        ValueError: not ``MAJOR.MINOR.PATCH``.
    """
    match = _VERSION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def _digest(files: Mapping[str, str]) -> str:
    canonical = json.dumps(dict(files), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateVersion:
    template_id: str
    version: str
    state: VersionState
    origin: Origin
    base_version: str | None
    digest: str
    """SHA-256 of the version's files (names and texts, canonical JSON)."""
    authors: tuple[str, ...]
    """Key ids that created, edited or submitted it; none of them may approve it."""
    log: tuple[dict[str, str], ...]
    """Every action: ``{"action", "by", "at", "note"?}``, oldest first."""
    files: Mapping[str, str]
    revision: int
    """Counts changes; a change based on an older revision is refused."""
    created_at: datetime
    updated_at: datetime


def _from_row(row: Any) -> TemplateVersion:
    return TemplateVersion(
        template_id=row.template_id,
        version=row.version,
        state=VersionState(row.state),
        origin=Origin(row.origin),
        base_version=row.base_version,
        digest=row.digest,
        authors=tuple(json.loads(row.authors)),
        log=tuple(json.loads(row.log)),
        files=json.loads(row.files),
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _now() -> datetime:
    return datetime.now(UTC)


class TemplateCatalog:
    """Every version of every template, and a composer for each. One per process."""

    def __init__(
        self,
        *,
        engine: Engine,
        composer: Composer,
        versions_dir: Path,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._engine = engine
        self.library_composer = composer
        """The composer over the template library on disk."""
        self._dir = versions_dir
        self._clock = clock
        self._composers: dict[tuple[str, str], Composer] = {}
        self._lock = threading.Lock()
        self._insert = upsert_insert(engine)

    @property
    def library(self) -> TemplateLibrary:
        return self.library_composer.library

    # -- reading -----------------------------------------------------------------------

    def register_library(self) -> None:
        """Record the library's versions as approved (origin ``library``).

        A library version edited on disk without a new version number replaces the
        recorded files; a version of the same number written through the API is kept
        (the API's wins: it was approved by a person).
        """
        now = self._clock()
        for template_id in self.library.ids():
            version = self.library.manifest(template_id).version
            files = self._disk_files(template_id)
            digest = _digest(files)
            values = {
                "template_id": template_id,
                "version": version,
                "state": VersionState.APPROVED,
                "origin": Origin.LIBRARY,
                "base_version": None,
                "files": json.dumps(files, ensure_ascii=False),
                "digest": digest,
                "authors": "[]",
                "log": json.dumps([{"action": "shipped", "by": "library", "at": now.isoformat()}]),
                "revision": 1,
                "created_at": now,
                "updated_at": now,
            }
            with self._engine.begin() as connection:
                connection.execute(
                    self._insert(template_versions)
                    .values(**values)
                    .on_conflict_do_update(
                        index_elements=["template_id", "version"],
                        set_={
                            "files": values["files"],
                            "digest": digest,
                            "revision": template_versions.c.revision + 1,
                            "updated_at": now,
                        },
                        where=(template_versions.c.origin == Origin.LIBRARY)
                        & (template_versions.c.digest != digest),
                    )
                )

    def _disk_files(self, template_id: str) -> dict[str, str]:
        folder = self.library.root / template_id
        return {
            str(path.relative_to(folder)): path.read_text(encoding="utf-8")
            for path in sorted(folder.rglob("*"))
            if path.is_file() and _PATH.fullmatch(str(path.relative_to(folder)))
        }

    def ids(self) -> list[str]:
        """Every template with an approved version, sorted."""
        with self._engine.connect() as connection:
            stored = connection.execute(
                select(template_versions.c.template_id)
                .where(template_versions.c.state == VersionState.APPROVED)
                .distinct()
            ).scalars()
            return sorted(set(stored) | set(self.library.ids()))

    def versions(self, template_id: str) -> list[TemplateVersion]:
        """Every version of ``template_id``, newest first.

        Raises:
            TemplateNotFound: the template has no version at all.
        """
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(template_versions).where(template_versions.c.template_id == template_id)
            ).all()
        found = sorted((_from_row(r) for r in rows), key=lambda v: parse_version(v.version))
        if not found:
            if template_id in self.library.ids():  # not registered yet
                self.register_library()
                return self.versions(template_id)
            raise TemplateNotFound("no such template", template=template_id)
        return found[::-1]

    def get(self, template_id: str, version: str) -> TemplateVersion:
        """One version.

        Raises:
            TemplateNotFound: no such template or version.
        """
        with self._engine.connect() as connection:
            row = connection.execute(
                select(template_versions).where(
                    template_versions.c.template_id == template_id,
                    template_versions.c.version == version,
                )
            ).first()
        if row is None:
            if self._library_has(template_id, version):
                self.register_library()
                return self.get(template_id, version)
            raise TemplateNotFound(f"no version {version}", template=template_id)
        return _from_row(row)

    def current_version(self, template_id: str) -> str:
        """The highest approved version of ``template_id``.

        Raises:
            TemplateNotFound: the template has no approved version.
        """
        with self._engine.connect() as connection:
            approved: list[str] = list(
                connection.execute(
                    select(template_versions.c.version).where(
                        template_versions.c.template_id == template_id,
                        template_versions.c.state == VersionState.APPROVED,
                    )
                ).scalars()
            )
        shipped = self._library_version(template_id)
        if shipped is not None:
            approved.append(shipped)
        if not approved:
            known = ", ".join(self.ids())
            raise TemplateNotFound(f"no such template; known: {known}", template=template_id)
        return max(approved, key=parse_version)

    def current(self, template_id: str) -> Composer:
        """The composer of the current version of ``template_id``.

        Raises:
            TemplateNotFound: the template has no approved version.
        """
        return self.pinned(template_id, self.current_version(template_id))

    def pinned(self, template_id: str, version: str) -> Composer:
        """The composer of exactly ``version``, which must be approved.

        Raises:
            TemplateNotFound: no such approved version.
        """
        with self._engine.connect() as connection:
            stored = connection.execute(
                select(
                    template_versions.c.origin,
                    template_versions.c.state,
                    template_versions.c.digest,
                ).where(
                    template_versions.c.template_id == template_id,
                    template_versions.c.version == version,
                )
            ).first()
        if stored is None or stored.origin == Origin.LIBRARY:
            if self._library_has(template_id, version):
                return self.library_composer
        if stored is None or stored.state != VersionState.APPROVED:
            raise TemplateNotFound(f"no approved version {version}", template=template_id)
        cached = self._composers.get((template_id, stored.digest))
        return cached or self.composer_for(self.get(template_id, version))

    def composer_for(self, version: TemplateVersion) -> Composer:
        """A composer whose library has ``version`` in place of the library's template."""
        key = (version.template_id, version.digest)
        with self._lock:
            if key not in self._composers:
                overlay = self._materialize(version.template_id, version.files, version.digest)
                library = TemplateLibrary(self.library.root, overlay=overlay)
                self._composers[key] = self.library_composer.with_library(library)
            return self._composers[key]

    def _library_has(self, template_id: str, version: str) -> bool:
        return self._library_version(template_id) == version

    def _library_version(self, template_id: str) -> str | None:
        """The version shipped in the library on disk, if it has the template (its
        manifest is read once; no listing of the library on the accept path)."""
        if not (self.library.root / template_id / "manifest.yaml").is_file():
            return None
        return self.library.manifest(template_id).version

    def _materialize(self, template_id: str, files: Mapping[str, str], digest: str) -> Path:
        """Write ``files`` once under ``versions_dir``; return the overlay root."""
        overlay = self._dir / template_id / digest
        if (overlay / template_id / "manifest.yaml").exists():
            return overlay
        self._dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{template_id}-", dir=self._dir))
        try:
            _write_folder(scratch, template_id, files)
            overlay.parent.mkdir(parents=True, exist_ok=True)
            os.rename(scratch, overlay)
        except OSError:
            if not (overlay / template_id / "manifest.yaml").exists():
                raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return overlay

    # -- writing -----------------------------------------------------------------------

    def create_draft(
        self,
        template_id: str,
        version: str,
        changes: Mapping[str, str | None],
        *,
        by: str,
        base: str | None = None,
        note: str | None = None,
    ) -> TemplateVersion:
        """A new draft: ``base`` (default: the current version) with ``changes`` applied
        (a file's new text, or None to remove it). Without a base, ``changes`` is the
        whole folder of a new template.

        Raises:
            DataValidationError: a bad version number, file name or text, or a template
                that does not load (each error names its field).
            StateConflict: ``version`` is not higher than every version of the template.
            TemplateNotFound: ``base`` does not exist.
        """
        known = self._known_versions(template_id)
        if base is None and known:
            base = self.current_version(template_id)
        files = dict(self.get(template_id, base).files) if base else {}
        _check_version(version)
        if known and parse_version(version) <= max(parse_version(v) for v in known):
            newest = max(known, key=parse_version)
            raise StateConflict(
                f"version {version} is not higher than {newest}: version numbers only go up "
                "and are never reused"
            )
        files = self._apply(template_id, version, files, changes, base_kind=self._kind(files))
        now = self._clock()
        entry = _entry("created", by, now, note or (f"from {base}" if base else None))
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    template_versions.insert().values(
                        template_id=template_id,
                        version=version,
                        state=VersionState.DRAFT,
                        origin=Origin.API,
                        base_version=base,
                        files=json.dumps(files, ensure_ascii=False),
                        digest=_digest(files),
                        authors=json.dumps([by]),
                        log=json.dumps([entry]),
                        revision=1,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError as error:
            raise StateConflict(f"version {version} was just created by someone else") from error
        return self.get(template_id, version)

    def edit_draft(
        self,
        template_id: str,
        version: str,
        changes: Mapping[str, str | None],
        *,
        by: str,
        note: str | None = None,
    ) -> TemplateVersion:
        """Apply ``changes`` to a draft (or a rejected version, which becomes a draft).

        Raises:
            DataValidationError: as for :meth:`create_draft`.
            StateConflict: the version is submitted or approved.
            TemplateNotFound: no such version.
        """
        current = self.get(template_id, version)
        base_kind = (
            self._kind(self.get(template_id, current.base_version).files)
            if (current.base_version)
            else None
        )
        files = self._apply(template_id, version, current.files, changes, base_kind=base_kind)
        return self._move(
            current,
            to=VersionState.DRAFT,
            allowed=(VersionState.DRAFT, VersionState.REJECTED),
            entry=_entry("edited", by, self._clock(), note),
            author=by,
            files=files,
        )

    def submit(self, template_id: str, version: str, *, by: str) -> TemplateVersion:
        """Submit a draft for approval once ``ccm templates lint`` finds nothing in it.

        Raises:
            DataValidationError: the lint findings, each with its file or sample.
            StateConflict: the version is not a draft.
        """
        current = self.get(template_id, version)
        if current.state is not VersionState.DRAFT:
            raise StateConflict(f"version {version} is {current.state}, not a draft")
        findings = lint_template(self.composer_for(current), template_id)
        if findings:
            raise DataValidationError(
                [DataError(path=f"files.{f.where}", message=f.message) for f in findings]
            )
        return self._move(
            current,
            to=VersionState.SUBMITTED,
            allowed=(VersionState.DRAFT,),
            entry=_entry("submitted", by, self._clock(), None),
            author=by,
        )

    def approve(
        self, template_id: str, version: str, *, by: str, note: str | None = None
    ) -> TemplateVersion:
        """Approve a submitted version; from now on it is current (if it is the highest).

        Raises:
            NotPermitted: ``by`` wrote, edited or submitted it (four eyes).
            StateConflict: the version is not submitted.
        """
        current = self.get(template_id, version)
        if by in current.authors:
            raise NotPermitted(
                "the approver must not be an author: this key created, edited or submitted "
                f"version {version}"
            )
        return self._move(
            current,
            to=VersionState.APPROVED,
            allowed=(VersionState.SUBMITTED,),
            entry=_entry("approved", by, self._clock(), note),
        )

    def reject(self, template_id: str, version: str, *, by: str, reason: str) -> TemplateVersion:
        """Send a submitted version back to its authors with ``reason``.

        Raises:
            NotPermitted: ``by`` is one of its authors.
            StateConflict: the version is not submitted.
        """
        current = self.get(template_id, version)
        if by in current.authors:
            raise NotPermitted("an author may not decide on their own version")
        return self._move(
            current,
            to=VersionState.REJECTED,
            allowed=(VersionState.SUBMITTED,),
            entry=_entry("rejected", by, self._clock(), reason),
        )

    def _move(
        self,
        current: TemplateVersion,
        *,
        to: VersionState,
        allowed: tuple[VersionState, ...],
        entry: dict[str, str],
        author: str | None = None,
        files: Mapping[str, str] | None = None,
    ) -> TemplateVersion:
        if current.state not in allowed:
            raise StateConflict(
                f"version {current.version} is {current.state}; this needs {' or '.join(allowed)}"
            )
        authors = list(current.authors)
        if author is not None and author not in authors:
            authors.append(author)
        values: dict[str, Any] = {
            "state": to,
            "authors": json.dumps(authors),
            "log": json.dumps([*current.log, entry]),
            "revision": current.revision + 1,
            "updated_at": self._clock(),
        }
        if files is not None:
            values |= {"files": json.dumps(files, ensure_ascii=False), "digest": _digest(files)}
        with self._engine.begin() as connection:
            moved = connection.execute(
                update(template_versions)
                .where(
                    template_versions.c.template_id == current.template_id,
                    template_versions.c.version == current.version,
                    template_versions.c.revision == current.revision,
                )
                .values(**values)
            ).rowcount
        if moved != 1:
            raise StateConflict(f"version {current.version} changed meanwhile; read it again")
        return self.get(current.template_id, current.version)

    def _known_versions(self, template_id: str) -> list[str]:
        with self._engine.connect() as connection:
            stored = list(
                connection.execute(
                    select(template_versions.c.version).where(
                        template_versions.c.template_id == template_id
                    )
                ).scalars()
            )
        shipped = self._library_version(template_id)
        return stored if shipped is None else [*stored, shipped]

    @staticmethod
    def _kind(files: Mapping[str, str]) -> str | None:
        match = re.search(r"^kind:\s*(\S+)", files.get("manifest.yaml", ""), re.M)
        return match.group(1) if match else None

    def _apply(
        self,
        template_id: str,
        version: str,
        files: Mapping[str, str],
        changes: Mapping[str, str | None],
        *,
        base_kind: str | None,
    ) -> dict[str, str]:
        """``files`` with ``changes``, checked: names, sizes, manifest id/version/kind, and
        that every locale loads (manifest, schema, a source per channel)."""
        errors = [
            DataError(path=f"files.{name}", message=_PATH_RULE)
            for name in changes
            if not _PATH.fullmatch(name)
        ]
        errors += [
            DataError(path=f"files.{name}", message=f"must be at most {MAX_FILE_BYTES} bytes")
            for name, text in changes.items()
            if text is not None and len(text.encode()) > MAX_FILE_BYTES
        ]
        errors += [
            DataError(path=f"files.{name}", message="cannot remove a file the version lacks")
            for name, text in changes.items()
            if text is None and name not in files
        ]
        if errors:
            raise DataValidationError(errors)
        merged = {**files, **{n: t for n, t in changes.items() if t is not None}}
        merged = {n: t for n, t in merged.items() if changes.get(n, "") is not None}
        manifest = merged.get("manifest.yaml")
        if manifest is None:
            raise DataValidationError(
                [DataError(path="files.manifest.yaml", message="a new template needs a manifest")]
            )
        if "manifest.yaml" not in changes:  # carried over: take the new number
            merged["manifest.yaml"] = _MANIFEST_VERSION.sub(f"version: {version}", manifest, 1)
        if sum(len(t.encode()) for t in merged.values()) > MAX_VERSION_BYTES:
            raise DataValidationError(
                [DataError(path="files", message=f"at most {MAX_VERSION_BYTES} bytes in all")]
            )
        self._check_loads(template_id, version, merged, base_kind)
        return dict(sorted(merged.items()))

    def _check_loads(
        self, template_id: str, version: str, files: Mapping[str, str], base_kind: str | None
    ) -> None:
        with tempfile.TemporaryDirectory(prefix="ccm-draft-") as scratch:
            overlay = Path(scratch)
            _write_folder(overlay, template_id, files)
            library = TemplateLibrary(self.library.root, overlay=overlay)
            errors = []
            try:
                manifest = library.manifest(template_id)
            except CCMError as error:
                raise DataValidationError(
                    [DataError(path="files.manifest.yaml", message=str(error))]
                ) from error
            if manifest.version != version:
                errors.append(
                    DataError(
                        path="files.manifest.yaml",
                        message=f"declares version {manifest.version}; this is version {version}",
                    )
                )
            if base_kind is not None and str(manifest.kind) != base_kind:
                errors.append(
                    DataError(
                        path="files.manifest.yaml",
                        message=f"kind cannot change between versions (was {base_kind})",
                    )
                )
            for name in files:
                locale = name.split("/")[0]
                if "/" in name and locale not in manifest.locales:
                    errors.append(
                        DataError(path=f"files.{name}", message="not a locale of the manifest")
                    )
            for locale in manifest.locales:
                try:
                    library.variant(template_id, locale)
                except CCMError as error:
                    errors.append(DataError(path=f"files.{locale}", message=str(error)))
            if errors:
                raise DataValidationError(errors)


def _write_folder(root: Path, template_id: str, files: Mapping[str, str]) -> None:
    """Write a version's files as ``root/<template_id>/...`` (an overlay root)."""
    for name, text in files.items():
        path = root / template_id / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _check_version(version: str) -> None:
    try:
        parse_version(version)
    except ValueError as error:
        raise DataValidationError([DataError(path="version", message=str(error))]) from error


def _entry(action: str, by: str, at: datetime, note: str | None) -> dict[str, str]:
    entry = {"action": action, "by": by, "at": at.isoformat()}
    return entry | ({"note": note} if note else {})
