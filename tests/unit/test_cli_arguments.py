"""CLI arguments are checked before anything starts: a bad value is a usage error, not a traceback."""

from __future__ import annotations

import pytest

from app.__main__ import build_parser


@pytest.mark.parametrize("amount", ["0", "-5", "ten"])
def test_credits_grant_refuses_an_amount_below_one_with_a_usage_error(amount, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["credits", "grant", "--user", "usr_x", "--amount", amount])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "--amount" in err and "Traceback" not in err


def test_credits_grant_accepts_a_positive_amount():
    args = build_parser().parse_args(["credits", "grant", "--user", "usr_x", "--amount", "3"])
    assert args.amount == 3
