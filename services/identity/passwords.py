"""Password rules (contract §17): at least 10 characters, not one of the common passwords, and
hard enough to guess by a strength estimator (zxcvbn's score, AUTH_PASSWORD_MIN_SCORE, default 3)."""

from __future__ import annotations

import re
from importlib import resources

from services.identity.ports.accounts import PasswordStrength
from services.platform.errors import ValidationFailed

MIN_LENGTH = 10
MIN_SCORE = 3  # zxcvbn: 3 "safely unguessable" (about 10^10 guesses), 4 "very unguessable"
MAX_LENGTH = 1024  # hashing a megabyte of "password" is a denial of service, not a password


def load_common_passwords() -> frozenset[str]:
    """The shipped list (services/data/common_passwords.txt), lowercased."""
    text = resources.files("services.identity").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


class PasswordPolicy:
    """Checks a new password; ValidationFailed (422) names the rule, never the password."""

    def __init__(self, common: frozenset[str], *, min_length: int = MIN_LENGTH,
                 strength: PasswordStrength | None = None, min_score: int = MIN_SCORE) -> None:
        self._common, self._min = common, min_length
        self._strength, self._min_score = strength, min_score

    def check(self, password: str, *, email: str | None = None, name: str | None = None) -> None:
        """Raise ValidationFailed when the password breaks a rule (CPU-bound: call it off the loop)."""
        message = self.problem(password, email=email, name=name)
        if message is not None:
            raise ValidationFailed(message, errors=[{"loc": ["body", "password"], "msg": message}])

    def problem(self, password: str, *, email: str | None = None, name: str | None = None) -> str | None:
        """Why the password is refused, or None."""
        if len(password) < self._min:
            return f"The password must be at least {self._min} characters long."
        if len(password) > MAX_LENGTH:
            return f"The password must be at most {MAX_LENGTH} characters long."
        folded = password.strip().lower()
        if folded in self._common:
            return "This password is too common; choose another."
        if email and folded in {email.lower(), email.split("@", 1)[0].lower()}:
            return "The password must not be the email address."
        if len(set(password)) < 3:
            return "The password must not repeat one or two characters."
        return self._guessable(password, email=email, name=name)

    def _guessable(self, password: str, *, email: str | None, name: str | None) -> str | None:
        if self._strength is None:
            return None
        local = (email or "").split("@", 1)[0]
        words = [email or "", local, *re.split(r"[^\w]+|_", local), name or "", *(name or "").split(), "muse"]
        estimate = self._strength.estimate(password, user_inputs=words)
        if estimate.score >= self._min_score:
            return None
        parts = (estimate.warning, *estimate.suggestions)
        reason = " ".join(part.rstrip(".") + "." for part in parts if part)
        return ("The password is too easy to guess (strength "
                f"{estimate.score} of 4, at least {self._min_score} needed). "
                + (reason or "Add another word or two; uncommon words are better."))
