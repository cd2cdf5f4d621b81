"""The store's engine factory: a bad database URL is a one-sentence config error that
never shows the URL's password."""

from __future__ import annotations

import pytest

from monitor.errors import ConfigError
from monitor.store import create_store_engine


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+nosuchdriver://csmon:hunter2secret@db.example/csmon",
        "nosuchdb://csmon:hunter2secret@db.example/csmon",
    ],
)
def test_unusable_url_names_it_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        create_store_engine(url)
    message = str(caught.value)
    assert "hunter2secret" not in message
    scheme = url.split("://")[0]
    assert f"database_url '{scheme}://csmon:**********@db.example/csmon' cannot be used" in message
