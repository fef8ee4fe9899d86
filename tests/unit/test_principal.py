"""`Principal.require_user_id()`: the one way a controller gets the user a request acts for."""

from __future__ import annotations

import pytest

from services.platform.errors import Unauthorized
from services.platform.principal import Principal


def test_a_user_principal_gives_its_user_id():
    principal = Principal(kind="api_key", rate_key="key:k1", user_id="usr_1", api_key_id="k1")
    assert principal.require_user_id() == "usr_1"


def test_a_principal_without_a_user_is_refused_not_read_as_an_empty_id():
    with pytest.raises(Unauthorized):
        Principal.anonymous("203.0.113.9").require_user_id()
