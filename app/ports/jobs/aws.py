"""Job store in DynamoDB: one item per job, a GSI (``user_id``, ``submitted_at``).

Every state change is one ``UpdateItem`` with a ``ConditionExpression`` on the
current status (and any ``when`` fields), so racing workers have one winner, as
with the Postgres adapter's ``UPDATE … WHERE``. Absent values are absent
attributes (never NULL), so the index only holds jobs that have both keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, get_args, get_type_hints

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from app.jobs.job import DELETING, Job, Status
from app.ports.aws import AwsSession, error_code
from app.ports.jobs import COLUMNS, JobStore

USER_INDEX = "user_id-submitted_at"
_HINTS = get_type_hints(Job)


def _of_type(kind: type) -> frozenset[str]:
    return frozenset(n for n in COLUMNS if _HINTS[n] is kind or kind in get_args(_HINTS[n]))


# DynamoDB has no time type and gives numbers back as Decimal: these fields are converted.
_DATETIMES = _of_type(datetime)
_INTS = _of_type(int)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def table_definition(table: str) -> dict[str, Any]:
    """``CreateTable`` arguments for the jobs table, as ``deploy/data-plane.yaml`` makes it."""
    return {
        "TableName": table,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "job_id", "AttributeType": "S"},
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "submitted_at", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "job_id", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": USER_INDEX,
            "KeySchema": [
                {"AttributeName": "user_id", "KeyType": "HASH"},
                {"AttributeName": "submitted_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }],
    }


def _timestamp(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601 with microseconds: string order is time order."""
    if moment.tzinfo is None:
        raise ValueError("job times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _encode(name: str, value: Any) -> dict[str, Any]:
    if name in _DATETIMES and isinstance(value, datetime):
        value = _timestamp(value)
    return dict(_serializer.serialize(value))


def _decode(name: str, value: Any) -> Any:
    if name in _DATETIMES:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    if name in _INTS and isinstance(value, Decimal):
        return int(value)
    return value


def _to_item(job: Job) -> dict[str, Any]:
    return {
        name: _encode(name, getattr(job, name))
        for name in COLUMNS
        if getattr(job, name) is not None
    }


def _from_item(item: dict[str, Any]) -> Job:
    plain = {name: _deserializer.deserialize(value) for name, value in item.items()}
    return Job(**{name: _decode(name, plain[name]) for name in COLUMNS if name in plain})


def _sort_key(job: Job) -> tuple[datetime, str]:
    return job.submitted_at, job.job_id


class DynamoJobStore(JobStore):
    def __init__(self, aws: AwsSession, table: str) -> None:
        self.aws = aws
        self.table = table

    async def _db(self) -> Any:
        return await self.aws.client("dynamodb")

    def _user_query(self, user_id: str, **extra: Any) -> dict[str, Any]:
        """A Query of one user's jobs on the user index."""
        return {
            "TableName": self.table,
            "IndexName": USER_INDEX,
            "KeyConditionExpression": "user_id = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}},
            **extra,
        }

    async def create(self, job: Job) -> bool:
        db = await self._db()
        try:
            await db.put_item(
                TableName=self.table,
                Item=_to_item(job),
                ConditionExpression="attribute_not_exists(job_id)",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def get(self, job_id: str) -> Job | None:
        db = await self._db()
        # Strongly consistent: a job read right after its transition shows it.
        response = await db.get_item(
            TableName=self.table, Key={"job_id": {"S": job_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _from_item(item) if item else None

    async def delete(self, job_id: str) -> bool:
        db = await self._db()
        try:
            await db.delete_item(
                TableName=self.table, Key={"job_id": {"S": job_id}},
                ConditionExpression="#status = :deleting",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":deleting": {"S": DELETING}},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def list_for_user(
        self, user_id: str, *, limit: int = 50, before: tuple[datetime, str] | None = None
    ) -> list[Job]:
        """Newest first by (submitted_at, job_id).

        The index sorts by ``submitted_at`` only, so jobs submitted in the same
        microsecond come in any order: pages are read until the last job kept is
        followed by an older one, then ties are ordered by ``job_id`` here.
        """
        db = await self._db()
        query = self._user_query(user_id, ScanIndexForward=False, Limit=limit + 1)
        if before is not None:
            query["KeyConditionExpression"] += " AND submitted_at <= :before"
            query["ExpressionAttributeValues"][":before"] = {"S": _timestamp(before[0])}
        jobs: list[Job] = []
        while True:
            response = await db.query(**query)
            for item in response.get("Items", []):
                job = _from_item(item)
                if before is None or _sort_key(job) < (before[0], before[1]):
                    jobs.append(job)
            complete = len(jobs) > limit and jobs[-1].submitted_at < jobs[limit - 1].submitted_at
            if complete or "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        jobs.sort(key=_sort_key, reverse=True)
        return jobs[:limit]

    async def count_for_user(self, user_id: str) -> int:
        db = await self._db()
        query = self._user_query(user_id, Select="COUNT")
        total = 0
        while True:
            response = await db.query(**query)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                return total
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    async def count_by_status(self, user_id: str, statuses: Iterable[Status]) -> dict[Status, int]:
        """A filtered Query of the user index: it reads all the user's jobs (only their
        status is returned), strongly consistent reads not being offered on a GSI, so a
        job changed a moment ago may be counted as it was."""
        wanted = list(statuses)
        counts: dict[Status, int] = dict.fromkeys(wanted, 0)
        if not wanted:
            return counts
        db = await self._db()
        query = self._user_query(
            user_id,
            FilterExpression=f"#status IN ({', '.join(f':s{i}' for i in range(len(wanted)))})",
            ProjectionExpression="#status",
            ExpressionAttributeNames={"#status": "status"},
        )
        query["ExpressionAttributeValues"].update({f":s{i}": {"S": s} for i, s in enumerate(wanted)})
        while True:
            response = await db.query(**query)
            for item in response.get("Items", []):
                status = item["status"]["S"]
                if status in counts:
                    counts[status] += 1
            if "LastEvaluatedKey" not in response:
                return counts
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    async def conditional_write(self, job_id: str, from_states: list[Status], to_state: Status,
                                when: dict[str, Any] | None, fields: dict[str, Any]) -> bool:
        if "job_id" in fields:
            raise ValueError("a job's id cannot change")
        states = list(from_states)
        if not states:
            return False
        # Every name goes through a placeholder: "status" and others are reserved words.
        names: dict[str, str] = {"#status": "status", "#job_id": "job_id"}
        values: dict[str, Any] = {":to": {"S": to_state}}
        sets, removes = ["#status = :to"], []
        for i, (name, value) in enumerate(fields.items()):
            names[f"#f{i}"] = name
            if value is None:
                removes.append(f"#f{i}")
            else:
                sets.append(f"#f{i} = :f{i}")
                values[f":f{i}"] = _encode(name, value)
        for i, state in enumerate(states):
            values[f":s{i}"] = {"S": state}
        conditions = [
            "attribute_exists(#job_id)",
            f"#status IN ({', '.join(f':s{i}' for i in range(len(states)))})",
        ]
        for i, (name, value) in enumerate((when or {}).items()):
            names[f"#w{i}"] = name
            if value is None:
                conditions.append(f"attribute_not_exists(#w{i})")
            else:
                conditions.append(f"#w{i} = :w{i}")
                values[f":w{i}"] = _encode(name, value)
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        db = await self._db()
        try:
            await db.update_item(
                TableName=self.table,
                Key={"job_id": {"S": job_id}},
                UpdateExpression=update,
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
