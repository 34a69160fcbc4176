# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html).
import contextvars
from contextlib import contextmanager

_ENGINE = contextvars.ContextVar("crm_sales_process_engine", default=False)


@contextmanager
def engine_writes():
    """Let the transition engine write what the guard refuses to everyone else.

    A context variable rather than a key of the env context: clients send the
    context over RPC, so a context key would be a bypass anyone could forge.
    """
    token = _ENGINE.set(True)
    try:
        yield
    finally:
        _ENGINE.reset(token)


def in_engine():
    return _ENGINE.get()


_MESSAGES = contextvars.ContextVar("crm_sales_process_messages", default=None)
_BATCHED_CHATTER = contextvars.ContextVar("crm_sales_process_batched_chatter", default=frozenset())


@contextmanager
def batched_chatter(lead_ids):
    """The tracking messages of the leads ``lead_ids`` that Odoo finalizes in
    the block (on a flush, a savepoint's included) are created in one go
    (crm.lead._message_track)."""
    token = _BATCHED_CHATTER.set(_BATCHED_CHATTER.get() | frozenset(lead_ids))
    try:
        yield
    finally:
        _BATCHED_CHATTER.reset(token)


def batched_chatter_ids():
    return _BATCHED_CHATTER.get()


class MessageQueue(list):
    """The chatter messages of leads queued by batched_messages(), as
    (kind, record, keyword arguments): kind "post" for message_post, "log"
    for _message_log. ``ids``: the leads whose messages it takes, None for
    any lead."""

    def __init__(self, ids=None):
        super().__init__()
        self.ids = ids
        # {subtype id: exists}: Odoo's tracking checks each record's subtype
        # twice, a batch once (mail.message.subtype.exists)
        self.subtypes = {}


@contextmanager
def batched_messages(ids=None):
    """Queue the chatter messages posted on leads in the block instead of
    creating them one by one; the caller posts the queue in one go after it
    (crm.lead._sales_process_post_queue)."""
    queue = MessageQueue(ids)
    token = _MESSAGES.set(queue)
    try:
        yield queue
    finally:
        _MESSAGES.reset(token)


def message_queue(record):
    """The queue that takes the messages of ``record`` now, or None."""
    queue = _MESSAGES.get()
    if queue is None or (queue.ids is not None and record.id not in queue.ids):
        return None
    return queue


def queued_subtypes():
    """The existence of the subtypes checked while messages are queued, or None."""
    queue = _MESSAGES.get()
    return None if queue is None else queue.subtypes
