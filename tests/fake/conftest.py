"""Fixtures for the fake's tests: an exchange at time_scale 0.05 and pty clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from modemctl.fake import Exchange
from tests.fake.helpers import PtyClient

SCALE = 0.05


@pytest.fixture
async def exchange() -> AsyncIterator[Exchange]:
    async with Exchange(time_scale=SCALE) as ex:
        yield ex


@pytest.fixture
def open_client() -> Iterator[Callable[[str], PtyClient]]:
    clients: list[PtyClient] = []

    def opener(path: str) -> PtyClient:
        client = PtyClient(path)
        clients.append(client)
        return client

    yield opener
    for client in clients:
        client.close()
