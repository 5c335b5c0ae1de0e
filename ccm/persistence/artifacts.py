"""Content-addressed artefact stores: a directory (embedded) or S3 with Object Lock.

Artefacts are named by their SHA-256 and never overwritten. On S3 every object is
written with a COMPLIANCE (or GOVERNANCE) retention period, so not even the account
owner can delete or shorten it before it ends (WORM), and the store refuses to start on
a bucket without Object Lock. Reads re-hash the bytes, so silent corruption surfaces as
a :class:`~ccm.errors.StorageError` instead of a wrong artefact in a pack.
"""

import hashlib
import os
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from ccm.errors import ArtifactNotFound, ConfigurationError, StorageError
from ccm.ports import StoredArtifact

__all__ = ["FileArtifactStore", "S3ArtifactStore"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _checked_name(sha256: str) -> str:
    if not _SHA256.fullmatch(sha256):
        raise ArtifactNotFound(f"{sha256!r} is not a SHA-256 hex digest")
    return sha256


def _verified(data: bytes, sha256: str, location: str) -> bytes:
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise StorageError(f"artefact {location} is corrupt: its SHA-256 is now {actual}")
    return data


class FileArtifactStore:
    """Artefacts as read-only files under ``root/ab/cd/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        name = _checked_name(sha256)
        return self.root / name[:2] / name[2:4] / name

    def put(self, data: bytes, *, media_type: str) -> StoredArtifact:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self._path(sha256)
        if not path.exists():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                # A name of its own per writer: concurrent stores of the same bytes each
                # write whole files and the last rename wins with identical content.
                fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{sha256}.")
                try:
                    with os.fdopen(fd, "wb") as handle:
                        handle.write(data)
                    os.chmod(tmp_name, 0o444)
                    os.replace(tmp_name, path)
                finally:
                    if os.path.exists(tmp_name):
                        os.unlink(tmp_name)
            except OSError as err:
                raise StorageError(f"cannot store artefact under {self.root}: {err}") from err
        return StoredArtifact(sha256=sha256, size=len(data), location=str(path))

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError as err:
            raise ArtifactNotFound(f"no artefact {sha256} under {self.root}") from err
        except OSError as err:
            raise StorageError(f"cannot read artefact {path}: {err}") from err
        return _verified(data, sha256, str(path))

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()


class S3ArtifactStore:
    """Artefacts in an S3 bucket with Object Lock, one object per SHA-256.

    Parameters:
        client: a boto3 S3 client (its endpoint may be a local S3-compatible server).
        bucket: a bucket created with Object Lock enabled.
        prefix: key prefix, e.g. ``evidence/``.
        retention_days: how long each object is locked.
        mode: ``COMPLIANCE`` (nobody can shorten it) or ``GOVERNANCE``.

    Raises:
        ConfigurationError: the bucket cannot be reached or has no Object Lock.
    """

    def __init__(
        self,
        client: Any,
        *,
        bucket: str,
        prefix: str = "",
        retention_days: int,
        mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE",
    ) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._retention = timedelta(days=retention_days)
        self._mode = mode
        self._errors = (BotoCoreError, ClientError)
        try:
            lock = client.get_object_lock_configuration(Bucket=bucket)
        except self._errors as err:
            raise ConfigurationError(
                f"CCM_ARTIFACT_STORE: bucket {bucket!r} has no usable Object Lock "
                f"configuration ({err})"
            ) from err
        if lock.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
            raise ConfigurationError(f"CCM_ARTIFACT_STORE: bucket {bucket!r} has Object Lock off")

    def _key(self, sha256: str) -> str:
        return f"{self._prefix}sha256/{_checked_name(sha256)}"

    def _url(self, key: str) -> str:
        return f"s3://{self._bucket}/{key}"

    def put(self, data: bytes, *, media_type: str) -> StoredArtifact:
        """Store ``data`` locked until now + retention.

        Storing bytes that are already there extends the lock of the stored object when it
        would end sooner (evidence referenced again must live as long as the new
        reference), and a newer version that shadows it with other bytes is superseded by
        a fresh, locked copy.
        """
        sha256 = hashlib.sha256(data).hexdigest()
        key = self._key(sha256)
        until = datetime.now(UTC) + self._retention
        head = self._head(key)
        if head is not None and head.get("Metadata", {}).get("sha256") == sha256:
            current = head.get("ObjectLockRetainUntilDate")
            if current is None or current < until - timedelta(days=1):
                try:
                    self._client.put_object_retention(
                        Bucket=self._bucket,
                        Key=key,
                        VersionId=head["VersionId"],
                        Retention={"Mode": self._mode, "RetainUntilDate": until},
                    )
                except self._errors as err:
                    raise StorageError(
                        f"cannot extend the lock of {self._url(key)}: {err}"
                    ) from err
        else:
            try:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=data,
                    ContentType=media_type,
                    ChecksumAlgorithm="SHA256",
                    Metadata={"sha256": sha256},
                    ObjectLockMode=self._mode,
                    ObjectLockRetainUntilDate=until,
                )
            except self._errors as err:
                raise StorageError(f"cannot store artefact {self._url(key)}: {err}") from err
        return StoredArtifact(sha256=sha256, size=len(data), location=self._url(key))

    def get(self, sha256: str) -> bytes:
        """The stored bytes; if the latest version was replaced, the locked original.

        Raises:
            ArtifactNotFound: no version is stored under ``sha256``.
            StorageError: no version holds the right bytes, or S3 failed.
        """
        key = self._key(sha256)
        try:
            data = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            if hashlib.sha256(data).hexdigest() == sha256:
                return bytes(data)
            listing = self._client.list_object_versions(Bucket=self._bucket, Prefix=key)
            for version in listing.get("Versions", []):
                if version["Key"] != key:
                    continue
                older = self._client.get_object(
                    Bucket=self._bucket, Key=key, VersionId=version["VersionId"]
                )["Body"].read()
                if hashlib.sha256(older).hexdigest() == sha256:
                    return bytes(older)
        except self._errors as err:
            if _is_missing(err):
                raise ArtifactNotFound(f"no artefact {self._url(key)}") from err
            raise StorageError(f"cannot read artefact {self._url(key)}: {err}") from err
        return _verified(data, sha256, self._url(key))

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self._client.head_object(Bucket=self._bucket, Key=key)
        except self._errors as err:
            if _is_missing(err):
                return None
            raise StorageError(f"cannot reach {self._url(key)}: {err}") from err
        return head

    def exists(self, sha256: str) -> bool:
        return self._head(self._key(sha256)) is not None

    def retention(self, sha256: str) -> tuple[str, datetime]:
        """The object's lock mode and retain-until date (read with HEAD; see recipes 2.4)."""
        head = self._client.head_object(Bucket=self._bucket, Key=self._key(sha256))
        return str(head["ObjectLockMode"]), head["ObjectLockRetainUntilDate"]


def _is_missing(err: Exception) -> bool:
    code = getattr(err, "response", {}).get("Error", {}).get("Code")
    return code in {"404", "NoSuchKey", "NotFound"}
