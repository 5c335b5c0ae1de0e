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
                tmp = path.with_name(f".{sha256}.{os.getpid()}.tmp")
                tmp.write_bytes(data)
                tmp.chmod(0o444)
                os.replace(tmp, path)
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
        sha256 = hashlib.sha256(data).hexdigest()
        key = self._key(sha256)
        if not self.exists(sha256):
            try:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=data,
                    ContentType=media_type,
                    ChecksumAlgorithm="SHA256",
                    Metadata={"sha256": sha256},
                    ObjectLockMode=self._mode,
                    ObjectLockRetainUntilDate=datetime.now(UTC) + self._retention,
                )
            except self._errors as err:
                raise StorageError(f"cannot store artefact {self._url(key)}: {err}") from err
        return StoredArtifact(sha256=sha256, size=len(data), location=self._url(key))

    def get(self, sha256: str) -> bytes:
        key = self._key(sha256)
        try:
            data = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except self._errors as err:
            if _is_missing(err):
                raise ArtifactNotFound(f"no artefact {self._url(key)}") from err
            raise StorageError(f"cannot read artefact {self._url(key)}: {err}") from err
        return _verified(data, sha256, self._url(key))

    def exists(self, sha256: str) -> bool:
        key = self._key(sha256)
        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
        except self._errors as err:
            if _is_missing(err):
                return False
            raise StorageError(f"cannot reach {self._url(key)}: {err}") from err
        return True

    def retention(self, sha256: str) -> tuple[str, datetime]:
        """The object's lock mode and retain-until date (read with HEAD; see recipes 2.4)."""
        head = self._client.head_object(Bucket=self._bucket, Key=self._key(sha256))
        return str(head["ObjectLockMode"]), head["ObjectLockRetainUntilDate"]


def _is_missing(err: Exception) -> bool:
    code = getattr(err, "response", {}).get("Error", {}).get("Code")
    return code in {"404", "NoSuchKey", "NotFound"}
