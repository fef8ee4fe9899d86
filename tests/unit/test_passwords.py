"""Password rules and the shipped common-password list (contract §17)."""

from __future__ import annotations

import pytest

from services.identity.passwords import PasswordPolicy, load_common_passwords
from services.platform.errors import ValidationFailed

COMMON = load_common_passwords()


def test_the_shipped_list_holds_the_ten_thousand_most_common_passwords():
    assert len(COMMON) >= 9_900  # a few entries fold together when lowercased
    for password in ("123456", "password", "qwerty", "1234567890", "password123", "iloveyou"):
        assert password in COMMON


@pytest.mark.parametrize("password, rule", [
    ("nine char", "at least 10"),
    ("1234567890", "too common"),
    ("PASSWORD123", "too common"),
    ("  qwertyuiop ", "too common"),
    ("ababababababab", "repeat"),
    ("x" * 1025, "at most"),
])
def test_weak_passwords_are_refused_with_the_rule_not_the_password(password, rule):
    with pytest.raises(ValidationFailed) as info:
        PasswordPolicy(COMMON).check(password)
    assert rule in info.value.detail
    assert password.strip() not in str(info.value.extra) + info.value.detail
    assert info.value.extra["errors"][0]["loc"] == ["body", "password"]


def test_the_email_address_is_not_a_password():
    with pytest.raises(ValidationFailed):
        PasswordPolicy(COMMON).check("ann.smith@example.com", email="ann.smith@example.com")
    with pytest.raises(ValidationFailed):
        PasswordPolicy(COMMON).check("ann.smith1", email="ann.smith1@example.com")


@pytest.mark.parametrize("password", ["correct horse battery staple", "ten chars!", "Tr0ub4dor&3x"])
def test_long_uncommon_passwords_pass(password):
    PasswordPolicy(COMMON).check(password, email="someone@example.com")


def test_zxcvbn_scores_the_first_72_characters_of_a_long_password():
    from providers.zxcvbn_strength import ZxcvbnStrength

    policy = PasswordPolicy(COMMON, strength=ZxcvbnStrength())
    assert policy.problem("Tr0ub4dor&3x and a plum tree at dusk " * 27) is None  # 999 characters
    assert "too easy to guess" in (policy.problem("password1234" + "!" * 80) or "")
