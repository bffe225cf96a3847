"""The production queue: Amazon SQS, one queue per logical name plus its dead-letter queue.

Queues that vanish (deleted, or an emulator restarted empty) are created again by the first call that misses
them, at most once per RECREATE_EVERY_S, so the service heals without an operator.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from shared.aws import AwsClient, client_config, error_code
from shared.formats import QUEUE_NAMES
from shared.queue.base import Message, Queue, QueueDepth, QueueUnavailable
from shared.settings import Settings

T = TypeVar("T")

SEND_BATCH_MAX = 10  # SQS limit for SendMessageBatch
RECEIVE_MAX = 10  # SQS limit for ReceiveMessage
LONG_POLL_MAX_S = 20  # SQS limit for WaitTimeSeconds
VISIBILITY_MAX_S = 12 * 3600  # SQS limit for VisibilityTimeout
DELAY_MAX_S = 900  # SQS limit for DelaySeconds
DEFAULT_VISIBILITY_S = 30
# The JSON protocol's code, and the query protocol's (older botocore, some emulators).
MISSING_QUEUE_CODES = ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
DLQ_RETENTION_S = 14 * 24 * 3600  # the longest SQS keeps a message: failed jobs stay inspectable
RECREATE_EVERY_S = 5.0  # after a failed attempt to recreate vanished queues, wait this long

# A long poll holds the connection for up to 20 s, so reads must be allowed to take longer than that.
CLIENT_CONFIG = client_config(read_timeout_s=LONG_POLL_MAX_S + 10)


def _seconds(value: float, limit: int = VISIBILITY_MAX_S) -> int:
    """SQS takes whole seconds; round up so that a message is never visible earlier than asked."""
    return max(0, min(limit, math.ceil(value)))


def _missing(exc: QueueUnavailable) -> bool:
    return error_code(exc.__cause__) in MISSING_QUEUE_CODES


class SqsQueue(Queue):
    """Logical queue `render-2d` is the SQS queue `<prefix>-render-2d`, with `<prefix>-render-2d-dlq`."""

    def __init__(self, settings: Settings) -> None:
        self._prefix = settings.sqs_queue_prefix
        self._max_receives = settings.queue_max_receives
        self._aws = AwsClient("sqs", CLIENT_CONFIG)
        self._urls: dict[str, str] = {}  # physical name -> queue URL
        self._recreate_lock = asyncio.Lock()
        self._failed_at = -math.inf  # when recreating vanished queues last failed

    def physical_name(self, queue: str) -> str:
        """The SQS name of a logical queue."""
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

    async def _healing(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call`; if its queue has vanished, create the queues again (with backoff) and retry once."""
        try:
            return await call()
        except QueueUnavailable as exc:
            if not _missing(exc):
                raise
            await self._recreate(exc)
            return await call()

    async def _recreate(self, cause: QueueUnavailable) -> None:
        async with self._recreate_lock:
            if time.monotonic() - self._failed_at < RECREATE_EVERY_S:
                raise cause  # creating them failed a moment ago: let the caller back off
            self._urls.clear()
            try:
                await self.ensure()
            except QueueUnavailable:
                self._failed_at = time.monotonic()
                raise

    async def _get_or_create(self, name: str, attributes: dict[str, str]) -> str:
        try:
            return await self._url(name)
        except QueueUnavailable as exc:
            if not _missing(exc):
                raise
        # Creating with identical attributes is idempotent, so racing creators both succeed.
        async with self._call(f"CreateQueue {name}") as sqs:
            url = str((await sqs.create_queue(QueueName=name, Attributes=attributes))["QueueUrl"])
        self._urls[name] = url
        return url

    async def ensure(self, names: tuple[str, ...] = QUEUE_NAMES) -> None:
        """Create each queue and its dead-letter queue (with a redrive policy) where missing."""
        for queue in names:
            name = self.physical_name(queue)
            dlq_url = await self._get_or_create(f"{name}-dlq", {"MessageRetentionPeriod": str(DLQ_RETENTION_S)})
            async with self._call(f"GetQueueAttributes {name}-dlq") as sqs:
                response = await sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
            redrive = {"deadLetterTargetArn": response["Attributes"]["QueueArn"],
                       "maxReceiveCount": str(self._max_receives)}
            await self._get_or_create(
                name, {"VisibilityTimeout": str(DEFAULT_VISIBILITY_S), "RedrivePolicy": json.dumps(redrive)})

    async def send_batch(self, queue: str, bodies: list[str], delay_s: float = 0.0) -> None:
        """Send in chunks of ten; any refused entry raises QueueUnavailable."""
        name = self.physical_name(queue)
        for start in range(0, len(bodies), SEND_BATCH_MAX):
            await self._healing(functools.partial(self._send_chunk, name, bodies[start : start + SEND_BATCH_MAX],
                                                  delay_s))

    async def _send_chunk(self, name: str, chunk: list[str], delay_s: float) -> None:
        url = await self._url(name)
        entries = [{"Id": str(i), "MessageBody": body, "DelaySeconds": _seconds(delay_s, DELAY_MAX_S)}
                   for i, body in enumerate(chunk)]
        async with self._call(f"SendMessageBatch {name}") as sqs:
            response = await sqs.send_message_batch(QueueUrl=url, Entries=entries)
        failed = response.get("Failed") or []
        if failed:
            reasons = "; ".join(f"{f.get('Code')}: {f.get('Message')}" for f in failed)
            raise QueueUnavailable(f"SQS refused {len(failed)} of {len(chunk)} messages: {reasons}")

    async def send_dead_letter(self, queue: str, body: str) -> None:
        """Send `body` to `<queue>-dlq`, where operators look for jobs that failed for good."""
        await self._healing(lambda: self._send_chunk(f"{self.physical_name(queue)}-dlq", [body], 0))

    async def receive(self, queue: str, max_messages: int, wait_s: float, visibility_s: float) -> list[Message]:
        """Long-poll (up to 20 s) for up to ten messages."""
        if max_messages <= 0:
            return []
        return await self._healing(lambda: self._receive(queue, max_messages, wait_s, visibility_s))

    async def _receive(self, queue: str, max_messages: int, wait_s: float, visibility_s: float) -> list[Message]:
        url = await self._url(self.physical_name(queue))
        async with self._call(f"ReceiveMessage {queue}") as sqs:
            response = await sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(max_messages, RECEIVE_MAX),
                WaitTimeSeconds=int(min(max(wait_s, 0), LONG_POLL_MAX_S)), VisibilityTimeout=_seconds(visibility_s),
                AttributeNames=["ApproximateReceiveCount"],
            )
        return [Message(queue=queue, body=m["Body"], receipt=m["ReceiptHandle"],
                        receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)))
                for m in response.get("Messages", [])]

    async def extend(self, message: Message, visibility_s: float) -> None:
        """Keep the message hidden `visibility_s` from now."""
        await self._change_visibility(message, visibility_s)

    async def release(self, message: Message, delay_s: float) -> None:
        """Make the message visible again after `delay_s`."""
        await self._change_visibility(message, delay_s)

    async def _change_visibility(self, message: Message, seconds: float) -> None:
        url = await self._url(self.physical_name(message.queue))
        async with self._call(f"ChangeMessageVisibility {message.queue}") as sqs:
            await sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message.receipt,
                                                VisibilityTimeout=_seconds(seconds))

    async def delete(self, message: Message) -> None:
        """Delete the message; a receipt of a queue that has since vanished has nothing left to delete."""
        try:
            url = await self._url(self.physical_name(message.queue))
            async with self._call(f"DeleteMessage {message.queue}") as sqs:
                await sqs.delete_message(QueueUrl=url, ReceiptHandle=message.receipt)
        except QueueUnavailable as exc:
            if not _missing(exc):
                raise

    async def depth(self, queue: str) -> QueueDepth:
        """SQS's approximate counts of the queue and of its dead-letter queue."""
        return await self._healing(lambda: self._depth(queue))

    async def _depth(self, queue: str) -> QueueDepth:
        name = self.physical_name(queue)
        url, dlq_url = await self._url(name), await self._url(f"{name}-dlq")
        async with self._call(f"GetQueueAttributes {queue}") as sqs:
            main = (await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed"])).get("Attributes", {})
            dead = (await sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=[
                "ApproximateNumberOfMessages"])).get("Attributes", {})
        return QueueDepth(visible=int(main.get("ApproximateNumberOfMessages", 0)),
                          in_flight=int(main.get("ApproximateNumberOfMessagesNotVisible", 0)),
                          delayed=int(main.get("ApproximateNumberOfMessagesDelayed", 0)),
                          dead=int(dead.get("ApproximateNumberOfMessages", 0)))

    async def ping(self) -> None:
        """List one queue: proves the endpoint and the credentials work."""
        async with self._call("ListQueues") as sqs:
            await sqs.list_queues(QueueNamePrefix=self._prefix, MaxResults=1)

    async def close(self) -> None:
        """Close the client and its connection pool."""
        await self._aws.close()
