"""Pure rules of the rate limiter: header figures, plan limits, overrides."""

from __future__ import annotations

from services.platform.principal import Principal
from services.platform.rate_limit import DEFAULT_LIMITS, Limit, RateLimiter, decide, limits_from


class FakeBucketStore:
    """Remembers the last take and answers with fixed figures."""

    def __init__(self, allowed: bool, tokens: float) -> None:
        self.allowed, self.tokens, self.taken = allowed, tokens, []

    async def take(self, key, *, burst, refill_per_s, cost=1):
        self.taken.append((key, burst, refill_per_s, cost))
        return self.allowed, self.tokens


def test_allowed_decision_reports_remaining_and_seconds_until_full():
    d = decide(Limit(10, 1.0), allowed=True, tokens=7.4)
    assert d.headers() == {"RateLimit-Limit": "10", "RateLimit-Remaining": "7", "RateLimit-Reset": "3"}


def test_refused_decision_adds_retry_after():
    d = decide(Limit(30, 3.0), allowed=False, tokens=0.5)
    assert not d.allowed and d.retry_after_s == 1 and d.headers()["Retry-After"] == "1"
    assert d.headers()["RateLimit-Remaining"] == "0" and d.headers()["RateLimit-Reset"] == "10"


def test_slow_refill_gives_a_longer_retry_after():
    assert decide(Limit(5, 0.1), allowed=False, tokens=0.0).retry_after_s == 10


def test_defaults_match_the_contract():
    assert DEFAULT_LIMITS == {"free": Limit(10, 1.0), "starter": Limit(30, 3.0),
                              "enterprise": Limit(100, 10.0), "anonymous": Limit(20, 2.0),
                              "auth_failures": Limit(10, 0.2), "media": Limit(300, 50.0)}
    assert limits_from({"free": [10, 0]})["free"] == Limit(10, 0.0)


async def test_limiter_keys_buckets_per_principal_and_picks_the_plan_limit():
    store = FakeBucketStore(True, 5)
    limiter = RateLimiter(store)
    await limiter.hit(Principal(kind="user", rate_key="user:usr_1", user_id="usr_1", plan="starter"))
    await limiter.hit(Principal.anonymous("10.0.0.1"))
    await limiter.hit(Principal(kind="api_key", rate_key="key:key_1", user_id="usr_1", plan="mystery"))
    assert store.taken == [("rl:user:usr_1", 30, 3.0, 1), ("rl:ip:10.0.0.1", 20, 2.0, 1),
                           ("rl:key:key_1", 10, 1.0, 1)]
