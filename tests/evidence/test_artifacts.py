"""Artefact stores: on disk, and on S3 with Object Lock against a real moto server."""

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from ccm.errors import ArtifactNotFound, ConfigurationError, StorageError
from ccm.persistence.artifacts import FileArtifactStore, S3ArtifactStore

PDF = b"%PDF-1.7 evidence\n"
SHA = hashlib.sha256(PDF).hexdigest()


def test_file_store_is_content_addressed_and_read_only(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path)
    stored = store.put(PDF, media_type="application/pdf")
    assert stored.sha256 == SHA and store.put(PDF, media_type="application/pdf") == stored
    assert store.get(SHA) == PDF and store.exists(SHA)
    path = Path(stored.location)
    assert path.stat().st_mode & 0o222 == 0
    path.chmod(0o644)
    path.write_bytes(b"changed")
    with pytest.raises(StorageError, match="corrupt"):
        store.get(SHA)
    with pytest.raises(ArtifactNotFound):
        store.get("0" * 64)
    with pytest.raises(ArtifactNotFound, match="not a SHA-256"):
        store.get("../../etc/passwd")


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield client
    server.stop()


def _locked_bucket(s3: Any, name: str) -> str:
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def test_s3_store_writes_objects_under_compliance_retention(s3: Any) -> None:
    bucket = _locked_bucket(s3, "ccm-evidence")
    store = S3ArtifactStore(s3, bucket=bucket, prefix="op/", retention_days=1825)
    stored = store.put(PDF, media_type="application/pdf")
    assert stored.location == f"s3://ccm-evidence/op/sha256/{SHA}"
    assert store.get(SHA) == PDF and store.exists(SHA)
    mode, until = store.retention(SHA)
    assert mode == "COMPLIANCE"
    assert until > datetime.now(UTC) + timedelta(days=1820)
    head = s3.head_object(Bucket=bucket, Key=f"op/sha256/{SHA}")
    assert head["Metadata"]["sha256"] == SHA
    # WORM: the locked version cannot be deleted, not even by the owner.
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=bucket, Key=f"op/sha256/{SHA}", VersionId=head["VersionId"])
    assert store.put(PDF, media_type="application/pdf") == stored  # idempotent, no new version
    versions = s3.list_object_versions(Bucket=bucket, Prefix="op/")["Versions"]
    assert len(versions) == 1
    with pytest.raises(ArtifactNotFound):
        store.get("1" * 64)


def test_s3_store_refuses_a_bucket_without_object_lock(s3: Any) -> None:
    s3.create_bucket(Bucket="plain-bucket")
    with pytest.raises(ConfigurationError, match="plain-bucket"):
        S3ArtifactStore(s3, bucket="plain-bucket", retention_days=30)


def test_s3_store_reads_the_locked_original_past_a_shadowing_version(s3: Any) -> None:
    bucket = _locked_bucket(s3, "ccm-replaced")
    store = S3ArtifactStore(s3, bucket=bucket, retention_days=30, mode="GOVERNANCE")
    store.put(PDF, media_type="application/pdf")
    s3.put_object(Bucket=bucket, Key=f"sha256/{SHA}", Body=b"other bytes")  # a new version
    assert store.get(SHA) == PDF
    store.put(PDF, media_type="application/pdf")  # supersedes the shadow with a locked copy
    latest = s3.get_object(Bucket=bucket, Key=f"sha256/{SHA}")
    assert latest["Body"].read() == PDF and latest["ObjectLockMode"] == "GOVERNANCE"


def test_s3_store_extends_the_lock_when_stored_again(s3: Any) -> None:
    bucket = _locked_bucket(s3, "ccm-extend")
    S3ArtifactStore(s3, bucket=bucket, retention_days=30).put(PDF, media_type="application/pdf")
    longer = S3ArtifactStore(s3, bucket=bucket, retention_days=1825)
    _, before = longer.retention(SHA)
    assert before < datetime.now(UTC) + timedelta(days=31)
    longer.put(PDF, media_type="application/pdf")
    _, after = longer.retention(SHA)
    assert after > datetime.now(UTC) + timedelta(days=1820)
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 1


def test_s3_store_names_bytes_that_no_version_holds(s3: Any) -> None:
    bucket = _locked_bucket(s3, "ccm-lost")
    store = S3ArtifactStore(s3, bucket=bucket, retention_days=30, mode="GOVERNANCE")
    s3.put_object(Bucket=bucket, Key=f"sha256/{SHA}", Body=b"never the right bytes")
    with pytest.raises(StorageError, match="corrupt"):
        store.get(SHA)


def test_file_store_survives_concurrent_writers_of_the_same_bytes(tmp_path: Path) -> None:
    import threading

    data = bytes(range(256)) * 40_000  # 10 MB: slow enough for writers to overlap
    store = FileArtifactStore(tmp_path)
    errors: list[Exception] = []

    def write() -> None:
        try:
            for _ in range(5):
                store.put(data, media_type="application/octet-stream")
                assert store.get(hashlib.sha256(data).hexdigest()) == data
        except Exception as err:  # noqa: BLE001 - collected for the assertion below
            errors.append(err)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [
        hashlib.sha256(data).hexdigest()
    ]
