"""The S3 side of flat files: a boto3 client from the configured keys, and errors that say what is known.

The provider serves flat files from an S3-compatible endpoint with S3 keys of their own (not the API
key). The keys travel only in the signed request headers; they never appear in URLs, logs, errors or
files written by this package.
"""

import datetime as _dt
import logging
import threading
from typing import Any, Dict, Iterator, Optional, Tuple

from polygon.exceptions import (
    PolygonAuthenticationError,
    PolygonConfigError,
    PolygonConnectionError,
    PolygonError,
    PolygonNotEntitledError,
    PolygonNotFoundError,
)

__all__ = ["FlatFilesSource", "ObjectInfo"]

logger = logging.getLogger(__name__)

_KEY_ERRORS = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken")


class ObjectInfo(Tuple[str, str, int]):
    """``(key, etag, size)`` of one file."""

    __slots__ = ()

    def __new__(cls, key: str, etag: str, size: int) -> "ObjectInfo":
        return tuple.__new__(cls, (key, etag, size))

    @property
    def key(self) -> str:
        return self[0]

    @property
    def etag(self) -> str:
        return self[1]

    @property
    def size(self) -> int:
        return self[2]


_SESSION_LOCK = threading.Lock()
_SESSION: Dict[str, Any] = {}


def _require_boto3():
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
    except ImportError:
        raise PolygonConfigError("flat files need boto3: pip install 'polygon-kit[flatfiles]'") from None
    return boto3, botocore


def _quiet_botocore() -> None:
    """botocore's DEBUG records dump request headers (the ``Authorization`` header names the access key id):
    keep them out of any log the application turns on with a DEBUG root logger."""
    for name in ("botocore", "boto3", "s3transfer"):
        log = logging.getLogger(name)
        if log.level < logging.INFO:  # NOTSET too: whatever the root logger says later
            log.setLevel(logging.INFO)


def _new_client(boto3: Any, **kwargs: Any) -> Any:
    """An S3 client from one process-wide boto3 session (its service models are loaded once, ~1 s)."""
    with _SESSION_LOCK:  # creating clients from a shared session is not thread-safe
        session = _SESSION.get("s3")
        if session is None:
            session = _SESSION["s3"] = boto3.session.Session()
        return session.client("s3", **kwargs)


class FlatFilesSource:
    """Reads one bucket of flat files.

    :param endpoint: the S3 endpoint URL (``config.s3_endpoint``).
    :param bucket: the bucket (``config.s3_bucket``).
    :param access_key_id: the S3 access key id. :param secret_access_key: the S3 secret.
    :param max_connections: size of the connection pool (one per parallel download).
    :raises PolygonConfigError: when boto3 is missing or the keys are not set.
    """

    def __init__(self, endpoint: str, bucket: str, access_key_id: Optional[str],
                 secret_access_key: Optional[str], max_connections: int = 8, timeout: float = 30.0) -> None:
        if not access_key_id or not secret_access_key:
            raise PolygonConfigError(
                "flat files need S3 keys (separate from the API key): set POLYGON_S3_ACCESS_KEY_ID and "
                "POLYGON_S3_SECRET_ACCESS_KEY, or s3_access_key_id / s3_secret_access_key in the config file")
        boto3, botocore = _require_boto3()
        _quiet_botocore()
        self._errors = botocore.exceptions
        self.endpoint = endpoint
        self.bucket = bucket
        cfg = botocore.config.Config(max_pool_connections=max(1, int(max_connections)), connect_timeout=timeout,
                                     read_timeout=timeout, retries={"max_attempts": 3, "mode": "standard"},
                                     signature_version="s3v4", s3={"addressing_style": "path"})
        self._client = _new_client(
            boto3, endpoint_url=endpoint, aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            region_name="us-east-1", config=cfg)

    @classmethod
    def from_config(cls, config: Any, max_connections: int = 8) -> "FlatFilesSource":
        """A source built from a :class:`~polygon.config.PolygonConfig`."""
        return cls(config.s3_endpoint, config.s3_bucket, config.s3_access_key_id, config.s3_secret_access_key,
                   max_connections=max_connections, timeout=config.read_timeout)

    # -- calls ------------------------------------------------------------------------------------------
    def list_days(self, prefix: str) -> Dict[str, ObjectInfo]:
        """Every object under ``prefix``: ``{key: ObjectInfo}`` (paged by the S3 API)."""
        out: Dict[str, ObjectInfo] = {}
        token = None
        for _page in range(100_000):  # bounded: a prefix of daily files has a few thousand keys
            kwargs = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list", prefix, self._client.list_objects_v2, **kwargs)
            for item in page.get("Contents", ()):
                out[item["Key"]] = ObjectInfo(item["Key"], item["ETag"].strip('"'), int(item["Size"]))
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                break
        return out

    def head(self, key: str) -> ObjectInfo:
        """ETag and size of one file. :raises PolygonNotFoundError: when it is not there."""
        meta = self._call("head", key, self._client.head_object, Bucket=self.bucket, Key=key)
        return ObjectInfo(key, meta["ETag"].strip('"'), int(meta["ContentLength"]))

    def open(self, key: str) -> Tuple[ObjectInfo, Any]:
        """Start reading one file: ``(info, stream)``; the stream is read in chunks, never buffered whole."""
        reply = self._call("get", key, self._client.get_object, Bucket=self.bucket, Key=key)
        return ObjectInfo(key, reply["ETag"].strip('"'), int(reply["ContentLength"])), reply["Body"]

    def iter_chunks(self, stream: Any, size: int = 1 << 20) -> Iterator[bytes]:
        """The bytes of an opened stream, ``size`` at a time."""
        try:
            yield from stream.iter_chunks(size)
        finally:
            stream.close()

    # -- errors -----------------------------------------------------------------------------------------
    def _call(self, what: str, key: str, fn, **kwargs):
        try:
            return fn(**kwargs)
        except self._errors.ClientError as exc:
            raise self._translate(exc, what, key) from None
        except (self._errors.EndpointConnectionError, self._errors.ConnectionClosedError,
                self._errors.ReadTimeoutError, self._errors.ConnectTimeoutError) as exc:
            raise PolygonConnectionError("flat files: cannot reach %s (%s)" % (self.endpoint, type(exc).__name__),
                                         url=self.endpoint) from None

    def _translate(self, exc: Any, what: str, key: str) -> PolygonError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        where = "%s/%s" % (self.bucket, key)
        if code in _KEY_ERRORS:
            return PolygonAuthenticationError(
                "flat files: the S3 keys were refused (%s); they are not the API key: check "
                "POLYGON_S3_ACCESS_KEY_ID / POLYGON_S3_SECRET_ACCESS_KEY" % code, status_code=status or 403,
                url=where)
        if code in ("NoSuchKey", "NotFound", "404") or status == 404:
            return PolygonNotFoundError("flat files: no file %s%s" % (where, _publication_hint(key)),
                                        status_code=404, url=where)
        if code == "NoSuchBucket":
            return PolygonNotFoundError("flat files: no bucket %r at %s" % (self.bucket, self.endpoint),
                                        status_code=404, url=where)
        if status == 403 or code in ("AccessDenied", "Forbidden", "403"):
            return PolygonNotEntitledError(_forbidden_text(where, key), status_code=403, url=where)
        return PolygonError("flat files: %s %s failed: %s %s" % (what, where, code or status,
                                                                 error.get("Message") or ""))


def _publication_hint(key: str) -> str:
    from polygon.flatfiles.layout import day_of_key

    day = day_of_key(key)
    if day is not None and day >= _dt.date.today() - _dt.timedelta(days=1):
        return " (a day is published the next morning, New York time: %s may not be published yet)" % day
    if day is not None and day.weekday() >= 5:
        return " (%s is a weekend: no file for it)" % day
    return " (not a trading day, or not published)"


def _forbidden_text(where: str, key: str) -> str:
    from polygon.flatfiles.layout import day_of_key

    day = day_of_key(key)
    if day is not None and day >= _dt.date.today() - _dt.timedelta(days=1):
        return ("flat files: access denied to %s: that day may not be published yet (files appear the next "
                "morning, New York time); if it persists, your plan may not include this dataset" % where)
    return ("flat files: access denied to %s: the keys are valid but your plan does not include this dataset "
            "(or this part of its history)" % where)
