"""``AdaptiveLimiter``: how many calls of a fan-out may be in flight at once.

Additive increase, multiplicative decrease, as TCP does it: a throttle halves the permitted
count (once per window: throttles of calls sent before the last cut say nothing new), and
each window of ``permitted`` unthrottled answers grows it back by one, up to the limit the
user asked for. A call that waits to be retried gives its slot back while it waits, and
takes one again (before any new call) when it is re-sent.
"""

from __future__ import annotations

import threading

__all__ = ["AdaptiveLimiter", "Slot"]


class Slot:
    """One call's hold on the limiter: ``epoch`` is the cut count when it was (re)sent,
    ``held`` whether it counts as in flight now."""

    __slots__ = ("epoch", "held")

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.held = True


class AdaptiveLimiter:
    """A counting gate whose size halves on throttles and grows back on successes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.permitted = limit
        #: The lowest ``permitted`` reached so far.
        self.lowest = limit
        self.in_flight = 0
        self.cuts = 0
        self._good = 0
        self._retrying = 0
        self._closed = False
        self._cond = threading.Condition()

    def acquire(self, timeout: float | None = None) -> Slot | None:
        """A slot for a new call, or None if none freed up within ``timeout`` seconds.

        Calls waiting to be re-sent go first, so earlier inputs finish first. A closed
        limiter gives no slots.
        """
        with self._cond:
            if not self._cond.wait_for(self._free_for_new, timeout) or self._closed:
                return None
            return self._take()

    def reacquire(self, slot: Slot) -> bool:
        """Take a slot again for a call about to be re-sent; False once the limiter is closed."""
        with self._cond:
            self._retrying += 1
            try:
                self._cond.wait_for(lambda: self._closed or self.in_flight < self.permitted)
            finally:
                self._retrying -= 1
            if self._closed:
                return False
            slot.epoch, slot.held = self._take().epoch, True
            return True

    def release(self, slot: Slot, *, throttled: bool = False, answered: bool = True) -> None:
        """Give the slot back (once).

        ``throttled``: the call's answer was a throttle; ``answered=False``: nothing was sent,
        so the slot says nothing about Lambda's capacity.
        """
        with self._cond:
            if not slot.held:
                return
            slot.held = False
            self.in_flight -= 1
            if throttled:
                self._on_throttle(slot)
            elif answered:
                self._on_good()
            self._cond.notify_all()

    def close(self) -> None:
        """Give no more slots, and wake every waiter (the fan-out was interrupted)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _free_for_new(self) -> bool:
        return self._closed or (self._retrying == 0 and self.in_flight < self.permitted)

    def _take(self) -> Slot:
        self.in_flight += 1
        return Slot(self.cuts)

    def _on_throttle(self, slot: Slot) -> None:
        if slot.epoch < self.cuts:
            return  # sent before the last cut: that cut already answered this throttle
        self.permitted = max(1, self.permitted // 2)
        self.lowest = min(self.lowest, self.permitted)
        self.cuts += 1
        self._good = 0

    def _on_good(self) -> None:
        if self.permitted >= self.limit:
            return
        self._good += 1
        if self._good >= self.permitted:
            self.permitted += 1
            self._good = 0

    def __repr__(self) -> str:
        return f"<AdaptiveLimiter {self.in_flight}/{self.permitted} of {self.limit}>"
