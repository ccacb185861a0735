"""Run inside a network namespace of its own (`test_partitions`): a real TCP + Noise
connection on its loopback, cut by an nft rule that drops what reaches the responder, then
healed. Prints what `SecureConnection.stalled` said at each step."""

from __future__ import annotations

import asyncio
import subprocess

from potluck.p2p.keys import DeviceIdentity, new_board_key
from potluck.p2p.net.noise import SecureConnection, initiate, respond

from tests.p2p_helpers import wait_until

CUT = """table inet plk_cut {{
 chain input {{
  type filter hook input priority 0;
  tcp dport {port} drop
 }}
}}
"""


async def main() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    key = new_board_key()
    accepted: asyncio.Future[SecureConnection] = asyncio.get_running_loop().create_future()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(await respond(reader, writer, DeviceIdentity.generate(), lambda _: key))

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    ours = await initiate(reader, writer, DeviceIdentity.generate(), key, timeout=5)
    theirs = await asyncio.wait_for(accepted, 5)
    await ours.send(b"before the cut")
    await ours.flush()
    assert await asyncio.wait_for(theirs.receive(), 5) == b"before the cut"
    print("live", ours.stalled())
    subprocess.run(["nft", "-f", "-"], input=CUT.format(port=port), text=True, check=True)
    await ours.send(b"into the cut")
    await ours.flush()
    await wait_until(ours.stalled, 10, "the socket to say the link is cut")
    print("cut", ours.stalled())
    subprocess.run(["nft", "delete", "table", "inet", "plk_cut"], check=True)
    await wait_until(lambda: not ours.stalled(), 20, "the socket to say the link is healed")
    print("healed", not ours.stalled())
    print("arrived", await asyncio.wait_for(theirs.receive(), 20) == b"into the cut")
    writer.close()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
