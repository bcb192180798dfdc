"""Logins under attack: failed logins throttled per username and per client address, and a cap
on the scrypt hashes computed at once, so that a flood of bad logins cannot starve the epoch loop.

Each login costs one scrypt hash (~16 MiB, tens of ms). `LoginGuard` answers, before any hash:

- 429 with `Retry-After` when the username, or the client address, has had its limit of failed
  logins within the last `login_window_s` seconds (`login_failures_per_user`,
  `login_failures_per_address`); attempts still being checked count against the limit too, so
  a burst of guesses queues at most the limit's worth of hashes. Refused attempts are not counted as failures, so a lock lifts
  at most `login_window_s` after the last failed password, however long a flood goes on: a
  legitimate user who shares the attacker's address (a NAT, a proxy) gets in again then, and
  one from another address is refused only if the flood targets their own username. A correct
  password clears its username's failures (not its address's: the attacker may share it).
- 503 with `Retry-After` when `login_hashes_at_once` hashes are being computed and no slot frees
  within `login_wait_s`: waiting logins hold no thread, and the epoch loop keeps its cores.

The client address is the connection's peer as uvicorn reports it (the forwarded address when
the request comes through a proxy uvicorn trusts, by default only one on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator, Callable

from fastapi import HTTPException, status

from edgeswarm.service.settings import Settings

# Keys (usernames, addresses) remembered per limit; beyond this the least recently failed is
# forgotten. Failures cost a hash each, so a window rarely holds more than a few thousand keys.
MAX_KEYS = 10_000
# Characters of a username used as its key (real usernames are at most 64; see routes/users.py).
_KEY_CHARS = 128


class FailureWindow:
    """Failure times per key within a sliding window; a key with `limit` of them is refused."""

    def __init__(self, limit: int, window_s: float, *, max_keys: int = MAX_KEYS) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()  # least recently failed first

    def __len__(self) -> int:
        return len(self._failures)

    def retry_after(self, key: str, now: float, *, pending: int = 0) -> float:
        """Seconds until `key` may try again (0: now), with `pending` attempts of it being checked."""
        times = self._failures.get(key, ())
        recent = sum(1 for t in times if t + self.window_s > now)
        if recent + pending < self.limit:
            return 0.0
        if recent < self.limit:
            return 1.0  # the limit is reached only if the pending attempts fail: look again soon
        return times[0] + self.window_s - now  # all `limit` kept failures are recent

    def add(self, key: str, now: float) -> None:
        times = self._failures.pop(key, None)
        if times is None:
            times = deque(maxlen=self.limit)  # older failures no longer decide anything
        times.append(now)
        self._failures[key] = times
        self._forget(now)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def _forget(self, now: float) -> None:
        # Drops keys whose last failure left the window, then (a flood of distinct keys) the oldest.
        while self._failures:
            key, times = next(iter(self._failures.items()))
            if times[-1] + self.window_s > now and len(self._failures) <= self.max_keys:
                return
            del self._failures[key]


class Attempt:
    """One login being checked; the caller sets `accepted` to whether the password was right."""

    def __init__(self, username: str, address: str) -> None:
        self.username = username
        self.address = address
        self.accepted: bool | None = None  # None: not checked (e.g. the hash did not finish)


class LoginGuard:
    """The throttle and the hash slots of one service (see the module docstring)."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        window = settings.login_window_s
        self._by_user = FailureWindow(settings.login_failures_per_user, window)
        self._by_address = FailureWindow(settings.login_failures_per_address, window)
        self._pending: Counter[tuple[str, str]] = Counter()  # ("user" | "address", key) → attempts
        self._slots = asyncio.Semaphore(settings.login_hashes_at_once)
        self.wait_s = settings.login_wait_s
        self.throttled = 0  # logins refused with 429
        self.busy = 0  # logins refused with 503

    def stats(self) -> dict[str, int]:
        return {
            "throttled": self.throttled,
            "busy": self.busy,
            "usernames_failing": len(self._by_user),
            "addresses_failing": len(self._by_address),
            "pending": sum(n for (kind, _), n in self._pending.items() if kind == "address"),
        }

    @contextlib.asynccontextmanager
    async def attempt(self, username: str, address: str) -> AsyncIterator[Attempt]:
        """A login of `username` from `address`: 429 if throttled, else a hash slot (503 if none
        frees within `login_wait_s`) held while the caller checks the password and sets
        `accepted`; a wrong password is then counted, a right one clears its username."""
        attempt = Attempt(username[:_KEY_CHARS], address)
        self._check(attempt)
        keys = (("user", attempt.username), ("address", address))
        self._pending.update(keys)
        try:
            async with self._hash_slot():
                yield attempt
        finally:
            self._pending.subtract(keys)
            for key in keys:
                if self._pending[key] <= 0:
                    del self._pending[key]
            if attempt.accepted is False:
                now = self._clock()
                self._by_user.add(attempt.username, now)
                self._by_address.add(address, now)
            elif attempt.accepted:
                self._by_user.clear(attempt.username)

    def _check(self, attempt: Attempt) -> None:
        # 429 (with Retry-After) if the username or the address is throttled, counting the
        # attempts of each still being checked: at most the limit's worth wait for a hash.
        now = self._clock()
        wait = max(
            self._by_user.retry_after(
                attempt.username, now, pending=self._pending[("user", attempt.username)]
            ),
            self._by_address.retry_after(
                attempt.address, now, pending=self._pending[("address", attempt.address)]
            ),
        )
        if wait > 0:
            self.throttled += 1
            raise _refusal(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many failed logins for this username or from this address; try again later",
                wait,
            )

    @contextlib.asynccontextmanager
    async def _hash_slot(self) -> AsyncIterator[None]:
        # One of the `login_hashes_at_once` slots, waited for up to `login_wait_s`; else 503.
        if self._slots.locked():
            try:
                await asyncio.wait_for(self._slots.acquire(), self.wait_s)
            except TimeoutError:
                self.busy += 1
                raise _refusal(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    "too many logins being checked at once; try again shortly",
                    max(self.wait_s, 1.0),
                ) from None
        else:
            await self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()


def _refusal(code: int, detail: str, retry_after_s: float) -> HTTPException:
    return HTTPException(code, detail=detail, headers={"Retry-After": str(max(1, math.ceil(retry_after_s)))})
