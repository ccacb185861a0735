"""A member's device gone bad: it holds the board key and floods a node with real messages.

Run as a script (the test starts it as its own process, so that its work does not slow the
app under test): `python hostile_member.py PORT BOARD_KEY_HEX SECONDS`. It opens a real
Noise connection with the key, says hello and sends an empty inventory, then loops over
attacks until SECONDS have passed, reconnecting with a fresh device key whenever the victim
closes the connection. It prints one JSON object: what it sent and the close reasons it got.

Everything it sends is signed, with a device key of its own (MAKER): a member's device gone bad
signs its junk like any device, so the junk reaches the victim's limits, not its signature check.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from automerge.core import ROOT, Document, ObjType, ScalarType, SyncState
from potluck.p2p.keys import DeviceIdentity
from potluck.p2p.model import item_document as docs
from potluck.p2p.model.automerge import Document as Handle
from potluck.p2p.model.automerge import heads_digest
from potluck.p2p.model.signing import Signed, pack_signatures
from potluck.p2p.model.types import Kind
from potluck.p2p.net import messages
from potluck.p2p.net.messages import PROTOCOL_VERSIONS, Bye, Have, Hello, Sync, WholeDocument
from potluck.p2p.net.noise import SecureConnection, initiate

FLOOD_BATCH = 400
"""New junk items sent between two heavier attacks."""
MAKER = DeviceIdentity.generate()
"""The hostile device's own key: every document here is written and signed by it."""


def signed(doc: Document, data: bytes | None = None, maker: DeviceIdentity = MAKER) -> Signed:
    """`data` (the saved document by default) with the signatures of all the document's
    changes, made with the maker's own key."""
    signatures = pack_signatures((c.hash, maker.sign_change(c.hash)) for c in doc.get_changes([]))
    return Signed(doc.save() if data is None else data, signatures, maker.signing_public)


def saved(doc: Document) -> tuple[Signed, bytes]:
    return signed(doc), heads_digest(doc.get_heads())


def as_changes(doc: Document) -> tuple[Signed, bytes]:
    """A document sent as its raw changes (automerge loads those too, at far greater cost)."""
    data = b"".join(change.bytes for change in doc.get_changes([]))
    return signed(doc, data), heads_digest(doc.get_heads())


def junk_item(title: str = "junk", body: str = "junk") -> Document:
    doc = Document(MAKER.actor_id)
    docs.init_item(Handle(doc), kind=Kind.NEED, title=title, body=body, tags=["junk"], now=1)
    return doc


def text_doc(chars: int) -> Document:
    """An item whose body is `chars` characters: one operation each."""
    doc = junk_item()
    with doc.transaction() as tx:
        body = tx.put_object(ROOT, "body", ObjType.Text)
        tx.splice_text(body, 0, 0, "ab" * (chars // 2))
    return doc


def nested_doc(depth: int) -> Document:
    """Maps in lists in maps …, `depth` levels down, under a key the read model ignores."""
    doc = junk_item("nested")
    with doc.transaction() as tx:
        obj = ROOT
        for level in range(depth):
            if level % 2:
                obj = tx.insert_object(obj, 0, ObjType.Map)
            else:
                obj = tx.put_object(obj, "deeper", ObjType.List)
    return doc


def bytes_doc(megabytes: int) -> Document:
    """An item carrying `megabytes` MiB of random (incompressible) bytes."""
    doc = junk_item("heavy")
    with doc.transaction() as tx:
        for i in range(megabytes):
            tx.put(ROOT, f"blob{i}", ScalarType.Bytes, os.urandom(1024 * 1024))
    return doc


def huge_text_doc() -> Document:
    """A title of a million characters, a tag list of thousands, a long body."""
    doc = junk_item("x" * 1_000_000, "y" * 200_000)
    with doc.transaction() as tx:
        tags = tx.put_object(ROOT, "tags", ObjType.Map)
        for i in range(5000):
            tx.put(tags, f"tag{i}" * 20, ScalarType.Boolean, True)
    return doc


def document(doc_id: str, data: Signed, digest: bytes) -> WholeDocument:
    return WholeDocument(doc_id, data.data, digest, data.signatures, data.keys)


class Attacker:
    def __init__(self, port: int, key: bytes) -> None:
        self.port = port
        self.key = key
        self.stats: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        flood = junk_item()
        self.flood = saved(flood)
        self.heavy: list[tuple[str, tuple[bytes, bytes]]] = [
            ("nested", saved(nested_doc(5000))),
            ("huge-text", saved(huge_text_doc())),
            ("near-limit-ops", saved(text_doc(400_000))),
            ("near-limit-bytes", saved(bytes_doc(3))),
            ("over-limit-bytes", saved(bytes_doc(12))),
            ("over-limit-ops", saved(text_doc(2_000_000))),
            ("over-limit-changes", as_changes(text_doc(400_000))),
        ]
        self.next_heavy = 0

    async def connect(self) -> tuple[SecureConnection, asyncio.Task[None]]:
        me = DeviceIdentity.generate()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        conn = await initiate(reader, writer, me, self.key, timeout=10)
        await conn.send(messages.encode(Hello(PROTOCOL_VERSIONS, me.device_id, "Mallory", 0, ())))
        await conn.send(messages.encode(Have({})))
        return conn, asyncio.create_task(self.drain(conn))

    async def drain(self, conn: SecureConnection) -> None:
        """Read whatever the victim sends (its documents, syncs, pings) and note its bye."""
        while True:
            message = messages.decode(await conn.receive())
            if isinstance(message, Bye):
                self.reasons[message.reason] += 1

    async def send(self, conn: SecureConnection, message: Any, what: str) -> None:
        await conn.send(messages.encode(message))
        self.stats[what] += 1

    async def sync_burst(self, conn: SecureConnection, count: int) -> None:
        """Many sync messages for one document, each carrying a fresh change."""
        doc = junk_item("synced")
        first, digest = saved(doc)
        doc_id = os.urandom(16).hex()
        await self.send(conn, document(doc_id, first, digest), "doc")
        mirror = Document.load(first.data)
        mine, theirs = SyncState(), SyncState()
        for i in range(count):
            docs.add_reply(Handle(doc), text=f"again {i}", now=i)
            for _ in range(4):  # run sync against a mirror of the victim's copy
                out = doc.generate_sync_message(mine)
                if out is None:
                    break
                mirror.receive_sync_message(theirs, out)
                if out.encode() and len(out.encode()) > 100:
                    sent = signed(doc, out.encode())
                    message = Sync(doc_id, sent.data, bytes(16), sent.signatures, sent.keys)
                    await self.send(conn, message, "sync")
                back = mirror.generate_sync_message(theirs)
                if back is not None:
                    doc.receive_sync_message(mine, back)

    async def round(self, conn: SecureConnection) -> None:
        data, digest = self.flood
        for _ in range(FLOOD_BATCH):
            await self.send(conn, document(os.urandom(16).hex(), data, digest), "flood")
        await self.sync_burst(conn, 30)
        if self.heavy:
            name, (data, digest) = self.heavy[self.next_heavy % len(self.heavy)]
            self.next_heavy += 1
            await self.send(conn, document(os.urandom(16).hex(), data, digest), name)

    async def run(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                conn, drain = await self.connect()
            except Exception as exc:
                self.stats[f"connect failed: {type(exc).__name__}"] += 1
                await asyncio.sleep(0.2)
                continue
            self.stats["connections"] += 1
            try:
                while time.monotonic() < deadline and not drain.done():
                    await self.round(conn)
            except Exception as exc:
                self.stats[f"ended: {type(exc).__name__}"] += 1
            drain.cancel()
            await asyncio.gather(drain, return_exceptions=True)
            await conn.aclose()


def main() -> None:
    port, key, seconds = int(sys.argv[1]), bytes.fromhex(sys.argv[2]), float(sys.argv[3])
    attacker = Attacker(port, key)
    if len(sys.argv) > 4:  # only these heavier attacks, e.g. "nested,huge-text"
        wanted = sys.argv[4].split(",")
        attacker.heavy = [h for h in attacker.heavy if h[0] in wanted]
    print(json.dumps({"ready": True}), flush=True)
    asyncio.run(attacker.run(seconds))
    print(json.dumps({"sent": attacker.stats, "reasons": attacker.reasons}), flush=True)


if __name__ == "__main__":
    main()
