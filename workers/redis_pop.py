"""One round trip per task message for kombu's Redis consumer: acks, pop and unacked record.

kombu's Redis channel takes a task message in three round trips of the consumer (the prefork
parent): ``BRPOP``; the unacked record (``ZADD unacked_index`` + ``HSET unacked``, so a worker
that dies is redelivered after the visibility timeout); at the task's end the ack (``ZREM`` +
``HDEL``). Under load the queue is never empty, and ``POP`` does all three in one script:

- it drops the unacked entries of the messages acked since the last pop (the acks ride along:
  ``QoS.ack`` in ``redis_qos`` leaves them to the next pop or unacked record, and a timer the
  first held ack arms sends any left within ``redis_poller.ACK_HOLD_SECONDS``; outside an event
  loop, ``flush_acks`` sends them before the next wait);
- it pops the first message of the queues' lists, in ``BRPOP``'s order (priority steps, one
  here: ``broker.PRIORITY_STEPS``; then queues), and records it as unacked, with kombu's own
  values (score: the client's time; value: ``[message, exchange, routing_key]`` as JSON), in
  the same atomic step: a message is never in neither the queue nor ``unacked``, which
  kombu's ``BRPOP`` then record could leave it.

Only when the script finds every list empty does the channel block in ``BRPOP`` (kombu's own
read, and its own unacked record for what it brings); the next start is the script again if
``BRPOP`` found its message waiting (a backlog), else ``BRPOP`` again (a queue that runs empty:
the script would mostly find nothing, a round trip for nothing; acks then go at once, as kombu
sends them).
A message the script cannot read (not kombu's JSON envelope) is handed over unrecorded and
goes through kombu's path, which records it or fails on it as it would have.
"""

from __future__ import annotations

import hashlib
from typing import Any

POP = """
for i = 2, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
for k = 3, #KEYS do
  local item = redis.call('RPOP', KEYS[k])
  if item then
    local ok, m = pcall(cjson.decode, item)
    local p = ok and type(m) == 'table' and m['properties']
    local tag = type(p) == 'table' and p['delivery_tag']
    local info = type(p) == 'table' and p['delivery_info']
    local ex = type(info) == 'table' and info['exchange']
    local rk = type(info) == 'table' and info['routing_key']
    if type(tag) ~= 'string' or type(ex) ~= 'string' or type(rk) ~= 'string' then
      return {KEYS[k], item, 0}
    end
    redis.call('ZADD', KEYS[1], ARGV[1], tag)
    redis.call('HSET', KEYS[2], tag,
      '[' .. item .. ',' .. cjson.encode(ex) .. ',' .. cjson.encode(rk) .. ']')
    return {KEYS[k], item, 1}
  end
end
return false
"""


POP_SHA = hashlib.sha1(POP.encode()).hexdigest()


def pop_command(
    unacked_index: str,
    unacked: str,
    queues: list[str],
    now: float,
    acks: list[str],
    *,
    load: bool = False,
) -> list[Any]:
    """``POP`` by its digest (``load``: by its text, which Redis then keeps): ack ``acks``,
    then pop from ``queues`` and record the message at ``now``."""
    script = ["EVAL", POP] if load else ["EVALSHA", POP_SHA]
    return [*script, 2 + len(queues), unacked_index, unacked, *queues, repr(now), *acks]


def is_noscript(exc: BaseException) -> bool:
    """True when Redis does not know the script (a restart, a flush): send its text."""
    return str(exc).startswith("NOSCRIPT")


def parse_pop(reply: Any) -> tuple[bytes, bytes, bool] | None:
    """The script's answer: (list key, message, recorded), or None when every list was empty."""
    if not reply:
        return None
    key, item, recorded = reply
    return key, item, bool(int(recorded))
