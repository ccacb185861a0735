"""mDNS: advertise this node (port, per-run nonce, board tags only) and browse for others."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

log = logging.getLogger(__name__)

SERVICE_TYPE = "_potluck._tcp.local."
TXT_VERSION = "1"
RESOLVE_TIMEOUT_MS = 3000


@dataclass(frozen=True)
class Advert:
    """What one remote node advertises."""

    name: str
    addresses: tuple[str, ...]
    port: int
    tags: frozenset[bytes]


def parse_tags(text: str) -> frozenset[bytes]:
    """The `t` TXT value: comma-separated 16-hex-digit board tags; junk entries are skipped."""
    tags = set()
    for part in text.split(",")[:64]:
        try:
            tag = bytes.fromhex(part)
        except ValueError:
            continue
        if len(tag) == 8:
            tags.add(tag)
    return frozenset(tags)


class Discovery:
    """Advertises `_potluck._tcp` with an opaque record and reports adverts from others."""

    def __init__(
        self,
        port: int,
        tags: Callable[[], list[bytes]],
        on_found: Callable[[Advert], None],
        on_lost: Callable[[str], None],
        addresses: Callable[[], list[str]],
    ) -> None:
        self.port = port
        self.tags = tags
        self.on_found = on_found
        self.on_lost = on_lost
        self.addresses = addresses
        self.nonce = os.urandom(6).hex()
        self.instance = f"{os.urandom(8).hex()}.{SERVICE_TYPE}"
        self._aiozc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._info: AsyncServiceInfo | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _service_info(self) -> AsyncServiceInfo:
        tags = ",".join(sorted(t.hex() for t in self.tags()))
        return AsyncServiceInfo(
            SERVICE_TYPE,
            self.instance,
            port=self.port,
            properties={"v": TXT_VERSION, "d": self.nonce, "t": tags},
            server=f"potluck-{self.nonce}.local.",
            parsed_addresses=self.addresses() or None,
        )

    async def start(self) -> None:
        self._aiozc = AsyncZeroconf(ip_version=IPVersion.V4Only)
        self._info = self._service_info()
        await (await self._aiozc.async_register_service(self._info))
        self._browser = AsyncServiceBrowser(
            self._aiozc.zeroconf, SERVICE_TYPE, handlers=[self._on_change]
        )

    async def update(self) -> None:
        """Re-advertise after the set of boards or addresses changed."""
        if self._aiozc is None:
            return
        self._info = self._service_info()
        await (await self._aiozc.async_update_service(self._info))

    async def aclose(self) -> None:
        """Withdraw the record (goodbye packets) and stop browsing; idempotent."""
        aiozc, self._aiozc = self._aiozc, None
        if aiozc is None:
            return
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._browser is not None:
            await self._browser.async_cancel()
        if self._info is not None:
            await (await aiozc.async_unregister_service(self._info))
        await aiozc.async_close()

    def _on_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        if name == self.instance:
            return
        if state_change is ServiceStateChange.Removed:
            self.on_lost(name)
            return
        task = asyncio.get_running_loop().create_task(self._resolve(name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, name: str) -> None:
        if self._aiozc is None:
            return
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if not await info.async_request(self._aiozc.zeroconf, RESOLVE_TIMEOUT_MS):
            log.debug("could not resolve %s", name)
            return
        props = info.decoded_properties
        if props.get("v") != TXT_VERSION or props.get("d") == self.nonce or not info.port:
            return
        advert = Advert(
            name=name,
            addresses=tuple(info.parsed_addresses(IPVersion.V4Only)),
            port=info.port,
            tags=parse_tags(props.get("t") or ""),
        )
        if advert.addresses:
            self.on_found(advert)
