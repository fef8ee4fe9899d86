"""Password strength through `zxcvbn` (Dropbox's estimator, the PyPI port): score 0-4 and feedback."""

from __future__ import annotations

from collections.abc import Sequence

from services.identity.ports.accounts import Strength

# zxcvbn refuses longer input (its matching grows fast with length); a password's first 72
# characters decide its score, as bcrypt's 72-byte limit would.
MAX_CHARS = 72


class ZxcvbnStrength:
    """Estimates how guessable a password is, given words of the account (email, name)."""

    def estimate(self, password: str, *, user_inputs: Sequence[str] = ()) -> Strength:
        """The score (0 too guessable … 4 very unguessable) with zxcvbn's warning and suggestions."""
        from zxcvbn import zxcvbn  # imported on first use: its frequency lists stay out of start-up

        result = zxcvbn(password[:MAX_CHARS], user_inputs=[i for i in user_inputs if i])
        feedback = result.get("feedback") or {}
        return Strength(score=int(result["score"]), warning=str(feedback.get("warning") or ""),
                        suggestions=tuple(str(s) for s in feedback.get("suggestions") or ()))
