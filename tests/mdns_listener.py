"""Run inside a namespace: print every `_potluck._tcp` record seen within a few seconds, as JSON."""

from __future__ import annotations

import json
import sys
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceListener, Zeroconf

SERVICE = "_potluck._tcp.local."


class Collect(ServiceListener):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.names.add(name)

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.names.add(name)

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        pass


def main(seconds: float) -> None:
    zc = Zeroconf(ip_version=IPVersion.V4Only)
    listener = Collect()
    browser = ServiceBrowser(zc, SERVICE, listener)
    time.sleep(seconds)
    records = []
    for name in sorted(listener.names):
        info = ServiceInfo(SERVICE, name)
        if info.request(zc, 3000):
            records.append(
                {
                    "name": name,
                    "server": info.server,
                    "port": info.port,
                    "addresses": info.parsed_addresses(),
                    "txt": {k.decode(): (v or b"").decode() for k, v in info.properties.items()},
                }
            )
    browser.cancel()
    zc.close()
    print(json.dumps(records))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
