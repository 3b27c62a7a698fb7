"""What every AWS adapter shares: one aioboto3 session and one client per service.

A client owns an HTTP connection pool, so each process makes one per service and
keeps it (:class:`AwsSession`); ``close()`` releases them all. ``endpoint_url``
points every service at one address (moto's server, LocalStack); it is unset on
real AWS, where each service has its own endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError

# Long polls hold a connection each (one per consumer and queue) while uploads and
# job updates go on beside them: the default pool of 10 would make them queue.
_POOL_CONNECTIONS = 64

# On AWS, presigned URLs and upload forms name the bucket's regional virtual-hosted
# endpoint (https://<bucket>.s3.<region>.amazonaws.com). "auto" signs them for the
# global endpoint, which S3 answers with a 307 to the region for a bucket made in the
# last day and which does not serve opt-in regions (eu-south-1, ap-east-1...) at all;
# us-east-1 too is named by region, not by the legacy global name. Bucket names must
# then have no dots (the wildcard certificate covers one label).
_S3_ON_AWS = {"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"}
# A custom endpoint (moto, LocalStack) has no per-bucket host names: address by path.
_S3_CUSTOM_ENDPOINT = {"addressing_style": "path"}


class AwsSession:
    def __init__(
        self,
        region: str,
        endpoint_url: str | None = None,
        *,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        # Without explicit keys aioboto3 uses the standard chain (environment,
        # instance role), which is what a deployment wants.
        self.session = aioboto3.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self._clients: dict[str, Any] = {}
        self._stack = contextlib.AsyncExitStack()
        self._lock = asyncio.Lock()
        self._account_id: str | None = None

    def _config(self, service: str) -> AioConfig:
        s3: dict[str, Any] = {}
        if service == "s3":
            s3 = _S3_CUSTOM_ENDPOINT if self.endpoint_url else _S3_ON_AWS
        return AioConfig(
            signature_version="s3v4" if service == "s3" else None,
            s3=s3 or None,
            max_pool_connections=_POOL_CONNECTIONS,
            retries={"mode": "standard", "max_attempts": 5},
            # A long poll may wait 20 s for SQS to answer.
            read_timeout=70,
        )

    async def client(self, service: str) -> Any:
        """The process's client for ``service``, made on first use."""
        client = self._clients.get(service)
        if client is not None:
            return client
        async with self._lock:
            if service not in self._clients:
                self._clients[service] = await self._stack.enter_async_context(
                    self.session.client(
                        service, endpoint_url=self.endpoint_url, config=self._config(service)
                    )
                )
            return self._clients[service]

    async def account_id(self) -> str:
        """This account's id (for ARNs), asked of STS once; it needs no permission."""
        if self._account_id is None:
            sts = await self.client("sts")
            self._account_id = str((await sts.get_caller_identity())["Account"])
        return self._account_id

    async def credentials_expire_at(self) -> datetime | None:
        """When the credentials this session signs with stop being valid: an instance
        role's are temporary, static keys never expire (None). A presigned request
        checked after its signer's credentials expired fails at S3 (ExpiredToken)."""
        credentials = await self.session.get_credentials()
        if credentials is None:
            return None
        # Refreshes them first if they are close to expiry, as signing would.
        await credentials.get_frozen_credentials()
        # botocore's refreshable credentials keep their expiry only here (no public name).
        expiry = getattr(credentials, "_expiry_time", None)
        return expiry if isinstance(expiry, datetime) else None

    async def arn(self, service: str, name: str) -> str:
        return f"arn:aws:{service}:{self.region}:{await self.account_id()}:{name}"

    async def close(self) -> None:
        await self._stack.aclose()
        self._clients.clear()


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
