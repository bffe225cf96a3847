"""The production queue: Amazon SQS, one queue per logical name plus its dead-letter queue."""

from __future__ import annotations

import json
import math
from contextlib import AbstractAsyncContextManager
from typing import Any

from shared.aws import AwsClient, client_config, error_code
from shared.queue import QUEUE_NAMES, Message, Queue, QueueUnavailable
from shared.settings import Settings

SEND_BATCH_MAX = 10  # SQS limit for SendMessageBatch
RECEIVE_MAX = 10  # SQS limit for ReceiveMessage
LONG_POLL_MAX_S = 20  # SQS limit for WaitTimeSeconds
VISIBILITY_MAX_S = 12 * 3600  # SQS limit for VisibilityTimeout
DEFAULT_VISIBILITY_S = 30
# The JSON protocol's code, and the query protocol's (older botocore, some emulators).
MISSING_QUEUE_CODES = ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
DLQ_RETENTION_S = 14 * 24 * 3600  # the longest SQS keeps a message: failed jobs stay inspectable

# A long poll holds the connection for up to 20 s, so reads must be allowed to take longer than that.
CLIENT_CONFIG = client_config(read_timeout_s=LONG_POLL_MAX_S + 10)


def _seconds(value: float) -> int:
    """SQS takes whole seconds; round up so that a message is never visible earlier than asked."""
    return max(0, min(VISIBILITY_MAX_S, math.ceil(value)))


class SqsQueue(Queue):
    def __init__(self, settings: Settings) -> None:
        self._prefix = settings.sqs_queue_prefix
        self._max_receives = settings.queue_max_receives
        self._aws = AwsClient("sqs", CLIENT_CONFIG)
        self._urls: dict[str, str] = {}  # physical name -> queue URL

    def physical_name(self, queue: str) -> str:
        return f"{self._prefix}-{queue}"

    def _call(self, what: str) -> AbstractAsyncContextManager[Any]:
        return self._aws.call(what, QueueUnavailable)

    async def _url(self, name: str) -> str:
        """URL of an existing queue, by physical name, cached for the life of this instance."""
        url = self._urls.get(name)
        if url is None:
            async with self._call(f"GetQueueUrl {name}") as sqs:
                url = str((await sqs.get_queue_url(QueueName=name))["QueueUrl"])
            self._urls[name] = url
        return url

    async def _get_or_create(self, name: str, attributes: dict[str, str]) -> str:
        try:
            return await self._url(name)
        except QueueUnavailable as exc:
            if error_code(exc.__cause__) not in MISSING_QUEUE_CODES:
                raise
        # Creating with identical attributes is idempotent, so racing creators both succeed.
        async with self._call(f"CreateQueue {name}") as sqs:
            url = str((await sqs.create_queue(QueueName=name, Attributes=attributes))["QueueUrl"])
        self._urls[name] = url
        return url

    async def ensure(self, names: tuple[str, ...] = QUEUE_NAMES) -> None:
        for queue in names:
            name = self.physical_name(queue)
            dlq_url = await self._get_or_create(
                f"{name}-dlq", {"MessageRetentionPeriod": str(DLQ_RETENTION_S)}
            )
            async with self._call(f"GetQueueAttributes {name}-dlq") as sqs:
                response = await sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
            redrive = {
                "deadLetterTargetArn": response["Attributes"]["QueueArn"],
                "maxReceiveCount": str(self._max_receives),
            }
            await self._get_or_create(
                name,
                {"VisibilityTimeout": str(DEFAULT_VISIBILITY_S), "RedrivePolicy": json.dumps(redrive)},
            )

    async def send_batch(self, queue: str, bodies: list[str]) -> None:
        url = await self._url(self.physical_name(queue))
        for start in range(0, len(bodies), SEND_BATCH_MAX):
            chunk = bodies[start : start + SEND_BATCH_MAX]
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
            async with self._call(f"SendMessageBatch {queue}") as sqs:
                response = await sqs.send_message_batch(QueueUrl=url, Entries=entries)
            failed = response.get("Failed") or []
            if failed:
                reasons = "; ".join(f"{f.get('Code')}: {f.get('Message')}" for f in failed)
                raise QueueUnavailable(f"SQS refused {len(failed)} of {len(chunk)} messages: {reasons}")

    async def receive(
        self, queue: str, max_messages: int, wait_s: float, visibility_s: float
    ) -> list[Message]:
        if max_messages <= 0:
            return []
        url = await self._url(self.physical_name(queue))
        async with self._call(f"ReceiveMessage {queue}") as sqs:
            response = await sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(max_messages, RECEIVE_MAX),
                WaitTimeSeconds=int(min(max(wait_s, 0), LONG_POLL_MAX_S)),
                VisibilityTimeout=_seconds(visibility_s),
                AttributeNames=["ApproximateReceiveCount"],
            )
        return [
            Message(
                queue=queue,
                body=m["Body"],
                receipt=m["ReceiptHandle"],
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
            )
            for m in response.get("Messages", [])
        ]

    async def _change_visibility(self, message: Message, seconds: float) -> None:
        url = await self._url(self.physical_name(message.queue))
        async with self._call(f"ChangeMessageVisibility {message.queue}") as sqs:
            await sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message.receipt, VisibilityTimeout=_seconds(seconds)
            )

    async def extend(self, message: Message, visibility_s: float) -> None:
        await self._change_visibility(message, visibility_s)

    async def release(self, message: Message, delay_s: float) -> None:
        await self._change_visibility(message, delay_s)

    async def delete(self, message: Message) -> None:
        url = await self._url(self.physical_name(message.queue))
        async with self._call(f"DeleteMessage {message.queue}") as sqs:
            await sqs.delete_message(QueueUrl=url, ReceiptHandle=message.receipt)

    async def depth(self, queue: str) -> tuple[int, int]:
        name = self.physical_name(queue)
        url = await self._url(name)
        dlq_url = await self._url(f"{name}-dlq")
        async with self._call(f"GetQueueAttributes {queue}") as sqs:
            main = await sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
            )
            dead = await sqs.get_queue_attributes(
                QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
            )
        attrs = main.get("Attributes", {})
        waiting = int(attrs.get("ApproximateNumberOfMessages", 0)) + int(
            attrs.get("ApproximateNumberOfMessagesDelayed", 0)
        )
        return waiting, int(dead.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))

    async def ping(self) -> None:
        async with self._call("ListQueues") as sqs:
            await sqs.list_queues(QueueNamePrefix=self._prefix, MaxResults=1)

    async def close(self) -> None:
        await self._aws.close()
