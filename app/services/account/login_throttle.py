"""Throttling of login attempts, per account and per client address, in Redis.

Each attempt is counted *before* the password is checked, in one Lua script that also refuses
it when a subject is locked, so parallel guesses cannot slip past the count, and a refused
attempt costs no argon2 work. After a subject's free attempts, every further one locks it for
a delay that doubles, up to a cap. A success clears the account's count and gives the address
its attempt back (an office behind one address logs in all day).

So that an attacker cannot lock the real user out, a browser that has logged into an account
before carries a signed "device" cookie: its attempts on that account are counted under the
device alone, not the account nor the address (OWASP's device cookies). Redis losing its
data forgets the counts, which only gives an attacker a fresh start of a few attempts. The
current password asked to change it is throttled the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from typing import Any

from app.i18n import ngettext

log = logging.getLogger("parcours.login")
DEVICE_COOKIE = "parcours_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
_PREFIX = "parcours:login:"


@dataclass(frozen=True)
class Rule:
    free: int  # attempts before the first lock
    cap_seconds: int  # the longest lock
    window_seconds: int = 3600  # how long failures are remembered after the last one


ACCOUNT = Rule(free=5, cap_seconds=300)
DEVICE = Rule(free=10, cap_seconds=300)
ADDRESS = Rule(free=20, cap_seconds=900)

# KEYS: one hash per subject. ARGV: now, then (free, cap, window) per key.
# Returns the seconds to wait when a subject is locked (nothing counted), else 0.
_ATTEMPT = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local locked = tonumber(redis.call('HGET', key, 'until') or '0')
  if locked - now > wait then wait = locked - now end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local free = tonumber(ARGV[3 * i - 1])
  local cap = tonumber(ARGV[3 * i])
  local window = tonumber(ARGV[3 * i + 1])
  local n = redis.call('HINCRBY', key, 'attempts', 1)
  if n > free then
    local delay = math.min(cap, 2 ^ (n - free - 1))
    redis.call('HSET', key, 'until', tostring(now + delay))
  end
  redis.call('EXPIRE', key, window)
end
return '0'
"""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def new_device_cookie(secret: str, email: str) -> str:
    device = secrets.token_urlsafe(16)
    return f"{device}.{_device_signature(secret, email, device)}"


def _device_signature(secret: str, email: str, device: str) -> str:
    message = f"{_digest(email)}:{device}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def device_for(secret: str, email: str, cookie: str | None) -> str | None:
    """The device id of a cookie that was issued to this account, else None."""
    device, _, signature = (cookie or "").partition(".")
    if not device or not signature:
        return None
    expected = _device_signature(secret, email, device)
    return device if hmac.compare_digest(expected, signature) else None


@dataclass(frozen=True)
class Attempt:
    """The subjects one login attempt is counted under."""

    address: str
    account: str
    device: str | None

    @property
    def keys(self) -> list[tuple[str, Rule]]:
        # A known browser counts on its own only: neither guesses on the account nor a
        # shared address (an office, a proxy) can lock it out.
        if self.device:
            return [(_PREFIX + f"dev:{self.device}", DEVICE)]
        return [
            (_PREFIX + f"addr:{self.address}", ADDRESS),
            (_PREFIX + f"acct:{self.account}", ACCOUNT),
        ]


def attempt_for(*, email: str, address: str, device: str | None) -> Attempt:
    return Attempt(address=_digest(address), account=_digest(email), device=device)


class LoginThrottle:
    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._script = redis.register_script(_ATTEMPT)

    async def admit(self, attempt: Attempt, *, now: float) -> int:
        """Count the attempt; answer 0 to go on, or the whole seconds to wait first."""
        keys = attempt.keys
        args: list[float] = [now]
        for _key, rule in keys:
            args += [rule.free, rule.cap_seconds, rule.window_seconds]
        try:
            wait = float(await self._script(keys=[key for key, _ in keys], args=args))
        except Exception:  # Redis down: logins still work, only unthrottled for a while
            log.warning("login throttle unavailable; attempt let through", exc_info=True)
            return 0
        return math.ceil(wait) if wait > 0 else 0

    async def succeeded(self, attempt: Attempt) -> None:
        """Clear the account's (or device's) count and give the address its attempt back."""
        *address, (owner, _) = attempt.keys
        try:
            pipe = self._redis.pipeline(transaction=False)
            for key, _ in address:
                pipe.hincrby(key, "attempts", -1)
            pipe.delete(owner)
            await pipe.execute()
        except Exception:
            log.warning("login throttle unavailable; count not cleared", exc_info=True)


def wait_words(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(count)s second", "%(count)s seconds", seconds) % {"count": seconds}
    minutes = -(-seconds // 60)
    return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}
