"""Nodes on loopback with manual peers: two and three nodes converge; relaying; presence."""

from __future__ import annotations

import asyncio
from pathlib import Path

from potluck.p2p.home import Home
from potluck.p2p.model.types import Kind, ResponseKind, Status
from potluck.p2p.net.node import Node
from potluck.p2p.net.presence import invite_hints, read_node_state

from tests.p2p_helpers import FAST, connected, make_homes, running_node, titles, wait_until


def items_of(home: Home, board_id: str) -> list[tuple[str, str, int, int]]:
    board = home.board(board_id)
    return sorted((i.title, i.status, i.replies, i.responses) for i in board.items())


class TestTwoNodes:
    async def test_posts_made_apart_and_together_converge(self, tmp_path: Path) -> None:
        (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
        a, b = ana.board(board_id), bo.board(board_id)
        need = a.post(Kind.NEED, "We need a ladder")
        b.post(Kind.OFFER, "Soup on Tuesday")
        async with running_node(ana.path) as node_a:
            async with running_node(bo.path, peers=[("127.0.0.1", node_a.port)]) as node_b:
                await wait_until(connected(node_a), what="Ana sees Bo synced")
                await wait_until(connected(node_b), what="Bo sees Ana synced")
                await wait_until(
                    lambda: (
                        titles(ana, board_id) == titles(bo, board_id)
                        and len(titles(bo, board_id)) == 2
                    ),
                    what="both items on both",
                )
                # Live: changes made while connected reach the other side.
                b.reply(need, "I have one")
                b.respond(need, ResponseKind.HELP, note="bringing it at 6")
                a.edit(need, body="tall one, for the roof")
                a.post(Kind.EVENT, "Assembly on Sunday")
                await wait_until(
                    lambda: (
                        items_of(ana, board_id) == items_of(bo, board_id)
                        and len(items_of(bo, board_id)) == 3
                        and any(r == 1 for _, _, r, _ in items_of(ana, board_id))
                    ),
                    what="live changes on both",
                )
                peers = node_a.peers()
                assert [p["name"] for p in peers] == ["Bo"]
                assert peers[0]["found"] == "incoming"
                assert node_b.peers()[0]["found"] == "manual"
                state = read_node_state(bo.path)
                assert state is not None and state["port"] == node_b.port
                assert all(port == node_b.port for _, port in invite_hints(bo.path))
            # Bo is offline: both keep writing.
            a.set_status(need, Status.MET)
            b.post(Kind.NOTE, "House agreements")
            async with running_node(bo.path, peers=[("127.0.0.1", node_a.port)]):
                await wait_until(
                    lambda: (
                        items_of(ana, board_id) == items_of(bo, board_id)
                        and len(items_of(bo, board_id)) == 4
                    ),
                    what="offline changes merged",
                )
        assert ana.board(board_id).item(need).body == bo.board(board_id).item(need).body
        assert bo.board(board_id).item(need).status == Status.MET
        assert read_node_state(bo.path) is None

    async def test_changes_to_one_item_made_apart_all_survive(self, tmp_path: Path) -> None:
        (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
        note = ana.board(board_id).post(Kind.NEED, "Agreements", body="Be kind.")
        async with (
            running_node(ana.path) as node_a,
            running_node(bo.path, peers=[("127.0.0.1", node_a.port)]),
        ):
            await wait_until(lambda: len(titles(bo, board_id)) == 1, what="note on Bo")
        ana.board(board_id).edit(note, body="Be kind. Wash up.")
        bo.board(board_id).reply(note, "Agreed")
        bo.board(board_id).respond(note, ResponseKind.HELP)
        async with (
            running_node(ana.path) as node_a,
            running_node(bo.path, peers=[("127.0.0.1", node_a.port)]) as node_b,
        ):
            await wait_until(connected(node_b), what="synced")
            await wait_until(
                lambda: items_of(ana, board_id) == items_of(bo, board_id), what="items equal"
            )
        for home in (ana, bo):
            item = home.board(board_id).item(note)
            assert item.body == "Be kind. Wash up."
            assert [r.text for r in item.replies] == ["Agreed"]


class TestThreeNodes:
    async def test_a_post_relays_through_the_middle_node(self, tmp_path: Path) -> None:
        (ana, bo, cy), board_id = make_homes(tmp_path, ["Ana", "Bo", "Cy"])
        async with running_node(bo.path) as middle:
            hub = [("127.0.0.1", middle.port)]
            async with running_node(ana.path, peers=hub), running_node(cy.path, peers=hub):
                await wait_until(connected(middle, 2), what="Bo synced with both")
                ana.board(board_id).post(Kind.NEED, "From Ana")
                cy.board(board_id).post(Kind.OFFER, "From Cy")
                await wait_until(
                    lambda: (
                        titles(ana, board_id) == titles(cy, board_id) == ["From Ana", "From Cy"]
                    ),
                    what="relayed both ways",
                )
                # Each joiner adds itself once the board document has reached it (its first
                # change is Ana's), and that entry travels on like any change.
                await wait_until(
                    lambda: (
                        {m.name for m in ana.board(board_id).members().values()}
                        == {"Ana", "Bo", "Cy"}
                    ),
                    what="everyone a member",
                )

    async def test_dialling_each_other_leaves_one_connection(self, tmp_path: Path) -> None:
        (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
        async with running_node(ana.path) as node_a, running_node(bo.path) as node_b:
            await asyncio.gather(
                node_a.add_peer("127.0.0.1", node_b.port),
                node_b.add_peer("127.0.0.1", node_a.port),
            )
            await wait_until(connected(node_a), what="a connection")
            await wait_until(connected(node_b), what="a connection")
            await asyncio.sleep(0.5)
            assert len(node_a.peer_infos()) == len(node_b.peer_infos()) == 1
            ana.board(board_id).post(Kind.NEED, "still works")
            await wait_until(lambda: titles(bo, board_id) == ["still works"], what="post")

    async def test_redials_a_peer_that_came_back(self, tmp_path: Path) -> None:
        (ana, bo), board_id = make_homes(tmp_path, ["Ana", "Bo"])
        async with running_node(ana.path) as node_a:
            port = node_a.port
            async with running_node(bo.path, peers=[("127.0.0.1", port)]) as node_b:
                await wait_until(connected(node_b), what="first connection")
        # Ana restarts on the same port; Bo's node notices and redials.
        async with running_node(bo.path, peers=[("127.0.0.1", port)]) as node_b:
            await asyncio.sleep(0.3)
            home = Home.open(ana.path)
            node_a = Node(home, port=port, host="127.0.0.1", mdns=False, timing=FAST)
            try:
                await node_a.start()
                assert node_a.port == port
                ana.board(board_id).post(Kind.NEED, "after restart")
                await wait_until(lambda: titles(bo, board_id) == ["after restart"], 15, "redialled")
            finally:
                await node_a.aclose()
                home.close()
