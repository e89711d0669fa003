"""kombu's Redis transport, with one fix so a worker rides out a broker restart, and one round
trip's worth of commands less per task.

When Redis drops, Celery's consumer (``on_connection_error_after_connected``) first calls
``Connection.collect()``: closing the default channel fails there (its pending BRPOP read raises
a connection error, so the channel stays open), and the transport is then detached
(``transport.client = None``). The ``connection.close()`` that follows closes that channel
again; its QoS restores unacked messages, which needs a fresh Redis pool, whose parameters are
read from ``transport.client``: ``AttributeError: 'NoneType' object has no attribute
'hostname'``. That is no connection error, so ``ignore_errors`` lets it through and the worker
stops with "Unrecoverable error" (the same fault as kombu#582; kombu main still reads
``self.connection.client`` unguarded). Here a detached channel raises a Redis
``ConnectionError`` instead: ``ignore_errors`` swallows it and the consumer reconnects. The
unacked messages stay in Redis and come back with the next restore sweep.

Per task message kombu records the message as unacknowledged and drops the record at its ack,
each in MULTI ... EXEC; ``QoS`` (``redis_qos``) sends them without (the reason is there).

In a worker's event loop the record of a message ``BRPOP`` took and the acks are held until the
loop is about to wait again, then sent in one round trip (``redis_poller`` says when and why).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from queue import Empty
from typing import Any

import redis
from kombu.transport import redis as kombu_redis
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import object_hook

from alerts.redis_pack import packer_options
from workers.hub import poll_start_hook
from workers.redis_poller import Poller
from workers.redis_pop import is_noscript, parse_pop, pop_command
from workers.redis_qos import QoS
from workers.redis_tick import TickChannel
from workers.redis_wire import ack_commands, record_commands, record_value, round_trip

log = logging.getLogger(__name__)
# A BRPOP answered within this found the message waiting: the queue has a backlog.
BACKLOG_SECONDS = 0.002
# kombu's ``loads`` with one decoder made once (``json.loads`` with a hook makes one per call).
_ENVELOPE = json.JSONDecoder(object_hook=object_hook)


class Channel(TickChannel):
    """A Redis channel that reports a detached transport as a connection error, and takes
    messages with the pop script (``workers/redis_pop.py``) while the queue holds some."""

    QoS = QoS
    recorded: str | None = None  # the delivery tag the pop script recorded as unacked
    _pop_next = True  # the next start is the script (False: the queue runs empty, BRPOP)
    _sent: str | None = None  # what the consuming connection awaits: "EVAL" or "BRPOP"
    _load = True  # Redis lacks the pop script: send its text (EVAL) instead of its digest
    # The task runs in this loop iteration (a solo pool, ``hub.RecordFirst``): a record held
    # until the loop waits would be written after the task, so a worker killed meanwhile would
    # lose its message. The record then goes at once, with the acks held so far.
    record_at_once = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._acks: list[str] = []  # acked since the last pop: their entries still in Redis
        self._sent_acks: list[str] = []
        # Taken by BRPOP in the event loop, recorded as unacked before the loop next waits:
        # (when, the record's value).
        self._records: dict[str, tuple[float, bytes | str]] = {}
        self._raw: bytes | None = None  # the text of the message being delivered
        self._held_conn: Any = None  # the connection the held records and acks go on
        self._loop_thread = threading.get_ident()  # acks from elsewhere are never held
        self._no_ack: set[str] = set()  # queues read without acks (a control reply queue)
        super().__init__(*args, **kwargs)

    def basic_consume(self, queue: Any, *args: Any, **kwargs: Any) -> Any:
        """Consume as kombu does; a queue read without acks keeps this channel on BRPOP while
        it is consumed (its messages must not be recorded as unacked: nothing would ack them)."""
        if kwargs.get("no_ack", args[0] if args else False) and queue not in self._fanout_queues:
            self._no_ack.add(queue)  # fanout queues are read by LISTEN, never popped
        return super().basic_consume(queue, *args, **kwargs)

    def _connparams(self, asynchronous: bool = False) -> Any:
        transport = self.connection
        if transport is None or transport.client is None:
            raise redis.ConnectionError("broker connection already closed")
        # Our commands and kombu's packed by hiredis from their arguments (``redis_pack``).
        return packer_options(super()._connparams(asynchronous=asynchronous))

    def _scripted(self) -> bool:
        if not self._pop_next or not self.ack_emulation or self.global_keyprefix:
            return False
        return not self._no_ack or self._no_ack.isdisjoint(self.active_queues)

    def _holding(self) -> bool:
        """True in the event loop's own thread, where ``flush_acks`` runs before every wait."""
        return (
            self.connection.cycle.in_loop
            and not self._closing
            and threading.get_ident() == self._loop_thread
        )

    def hold_record(self, message: Any, delivery_tag: str) -> bool:
        """Hold the unacked record of a message BRPOP took for the flush before the loop waits
        (True): it then shares one round trip with the acks of the same iteration."""
        if not self._holding():
            return False
        self._records[delivery_tag] = (time.time(), record_value(self._raw, message))
        if self.record_at_once:
            try:
                self.flush_acks()
            except self.connection_errors:  # held again: the task runs, as a prefork child's
                log.warning("unacked record not written before the task", exc_info=True)
        return True

    def defer_ack(self, delivery_tag: str) -> bool:
        """Hold the ack for the pop or flush this loop iteration sends (True)."""
        if self._records.pop(delivery_tag, None) is not None:
            return True  # its record was never written: nothing to drop
        loop = self._holding() and bool(self.active_queues)
        if not loop and (
            not self._scripted()
            or self._in_poll
            or self._closing
            or not self.active_queues
            or threading.get_ident() != self._loop_thread
        ):
            return False
        self._acks.append(delivery_tag)
        if loop:
            self.connection.cycle.arm()  # sent by then unless a record or pop takes it first
        return True

    def flush_due(self) -> None:
        """Before the loop waits: the held records (with the acks) now; held acks alone wait for
        the next record or pop while a message is awaited (``ACK_HOLD_SECONDS`` at most)."""
        if self._records or (self._acks and not (self._holding() and self._in_poll)):
            self.flush_acks()

    def flush_acks(self) -> None:
        """Send the held records and the held acks no pop took (the loop is about to wait),
        in one round trip."""
        if not self._acks and not self._records:
            return
        acks, self._acks = self._acks, []
        records, self._records = self._records, {}
        index, unacked = self.unacked_index_key, self.unacked_key
        commands = []
        for tag, (at, value) in records.items():
            commands += record_commands(index, unacked, tag, at, value)
        for tag in acks:
            commands += ack_commands(index, unacked, tag)
        try:
            if self._held_conn is None:
                self._held_conn = self.pool.get_connection()
            round_trip(self._held_conn, commands)
        except BaseException:
            self._acks[:0] = acks  # sent again with the next flush (both are idempotent)
            self._records = records | self._records
            raise

    def _brpop_start(self, timeout: Any = None) -> None:
        if not self._scripted():
            self._sent = "BRPOP"
            super()._brpop_start(timeout)
            return
        queues = self._queue_cycle.consume(len(self.active_queues))
        if not queues:
            return
        keys = [self._q_for_pri(queue, pri) for pri in self.priority_steps for queue in queues]
        conn = self.client.connection
        acks, self._acks = self._acks, []
        command = pop_command(
            self.unacked_index_key, self.unacked_key, keys, time.time(), acks, load=self._load
        )
        try:
            conn.send_command(*command)
        except BaseException:
            self._acks[:0] = acks
            raise
        self._in_poll = conn
        self._brpop_sent_at = time.monotonic()  # type: ignore[assignment]  # kombu's is None
        self._sent, self._sent_acks = "EVAL", acks

    def _brpop_read(self, **options: Any) -> Any:
        if self._sent != "EVAL":
            sent_at = self._brpop_sent_at
            # Empty when BRPOP timed out
            delivered = self._brpop_take() if not self.global_keyprefix else super()._brpop_read()
            # Answered at once: messages were waiting, and more may be (the script next).
            # Waited for it: the queue runs empty, and a script would mostly find nothing.
            self._pop_next = sent_at is None or time.monotonic() - sent_at < BACKLOG_SECONDS
            return delivered
        acks, self._sent_acks, self._sent = self._sent_acks, [], None
        try:
            try:
                reply = self.client.parse_response(self.client.connection, "EVALSHA", **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                self._acks[:0] = acks  # they may not have run: sent again (idempotent)
                raise
            except self.ResponseError as exc:
                self._acks[:0] = acks  # not run: sent with the next pop or flush
                if is_noscript(exc):
                    self._load = True  # the next pop sends the script's text
                else:  # refused (a full noeviction Redis, say): kombu's own way next
                    log.warning("pop script refused (%s); consuming with BRPOP", exc)
                    self._pop_next = False
                raise Empty() from None
            self._load = False
            popped = parse_pop(reply)
            if popped is None:
                self._pop_next = False  # every list empty: block in BRPOP next
                raise Empty()
            self._deliver_text(*popped)
            return True
        finally:
            self._in_poll = None  # type: ignore[assignment]  # kombu's own value here too
            self._flush_brpop_reauth()

    def _brpop_take(self) -> bool:
        """kombu's read of BRPOP's reply, the message delivered from its text."""
        conn = self.client.connection
        try:
            try:
                reply = conn.read_response()
            except self.connection_errors:
                conn.disconnect()  # the next iteration reconnects
                raise
            if not reply:
                raise Empty()
            key, item = reply
            self._deliver_text(key, item, False)
            return True
        finally:
            self._in_poll = None  # type: ignore[assignment]
            self._flush_brpop_reauth()

    def _deliver_text(self, key: bytes, item: bytes, recorded: bool) -> None:
        """Hand kombu the message ``item`` (its JSON text) popped from list ``key``;
        ``recorded``: the pop script recorded it as unacked already."""
        dest = bytes_to_str(key).rsplit(self.sep, 1)[0]
        self._queue_cycle.rotate(dest)
        payload = _ENVELOPE.decode(bytes_to_str(item))
        self.recorded = payload["properties"]["delivery_tag"] if recorded else None
        self._raw = item
        try:
            self.connection._deliver(payload, dest)
        finally:
            self.recorded = self._raw = None

    def close(self) -> None:
        """Send the held acks, then close as kombu does."""
        try:
            self.flush_acks()
        except self.connection_errors as exc:  # the entries lapse to a redelivery, as in kombu
            log.warning("acks not sent at close: %s", exc)
        conn, self._held_conn = self._held_conn, None
        if conn is not None and self._pool is not None:
            self._pool.release(conn)  # then closed with the pool, as kombu closes it
        super().close()


class Transport(kombu_redis.Transport):
    """kombu's Redis transport using ``Channel`` above and ``redis_poller.Poller``."""

    Channel = Channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cycle = Poller()  # type: ignore[assignment]  # kombu's attribute, kombu's type

    def register_with_event_loop(self, connection: Any, loop: Any) -> None:
        """kombu's registration, with its per-tick hook replaced by ``poll_start_hook``."""
        before = set(loop.on_tick)
        super().register_with_event_loop(connection, loop)
        loop.on_tick.difference_update(set(loop.on_tick) - before)
        loop.on_tick.add(poll_start_hook(self.cycle, loop, self.on_readable))
        poller = self.cycle
        assert isinstance(poller, Poller)
        poller.disarm()
        poller.loop = loop


TRANSPORT = f"{__name__}:Transport"


def transport_for(url: str) -> str | None:
    """This transport for redis:// and rediss:// URLs (others keep kombu's choice)."""
    return TRANSPORT if url.startswith(("redis://", "rediss://")) else None
