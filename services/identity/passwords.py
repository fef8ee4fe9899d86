"""Password rules (contract §17): at least 10 characters, not one of the common passwords."""

from __future__ import annotations

from importlib import resources

from services.platform.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 1024  # hashing a megabyte of "password" is a denial of service, not a password


def load_common_passwords() -> frozenset[str]:
    """The shipped list (services/data/common_passwords.txt), lowercased."""
    text = resources.files("services.identity").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


class PasswordPolicy:
    """Checks a new password; ValidationFailed (422) names the rule, never the password."""

    def __init__(self, common: frozenset[str], *, min_length: int = MIN_LENGTH) -> None:
        self._common, self._min = common, min_length

    def check(self, password: str, *, email: str | None = None) -> None:
        """Raise ValidationFailed when the password breaks a rule."""
        message = self.problem(password, email=email)
        if message is not None:
            raise ValidationFailed(message, errors=[{"loc": ["body", "password"], "msg": message}])

    def problem(self, password: str, *, email: str | None = None) -> str | None:
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
        return None
