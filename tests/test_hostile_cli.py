"""The hostile corpus through every command, in a pseudo-terminal, as the victim's terminal gets it.

A member's device gone bad (`bad`) writes the corpus of tests/hostile_text.py into every field
it can write, names its boards and itself with it, and hands out invite codes whose board name
is hostile. The corpus reaches one victim through `potluck join` and export files (`import`),
another through real sync between two `potluck serve` on loopback. Then every command runs in
a pty, and its stdout and stderr are read as bytes: no ESC, no BEL, no other C0 control but
line ends and tabs, no C1 control (neither as a raw byte nor as a character), no bidi control.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from potluck.p2p import Home
from potluck.p2p.invite import Invite, encode_invite
from potluck.p2p.model.automerge import ROOT, Document
from potluck.p2p.model.board_document import BOARD_DOC_ID, set_member
from potluck.p2p.model.measure import MAX_TITLE_SHOWN
from potluck.tui.cli.printable import printable

from tests.conftest import POTLUCK
from tests.hostile_text import CORPUS, write_corpus
from tests.p2p_helpers import db_rows, wait_sync

HOSTILE_NAME = "\x1b]0;pwned\x07Ana\u202e\x9b2J\nforged: line"
"""The bad device's display name: what its hello says, what `potluck peers` and the log show."""
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ITEM_ID = re.compile(r"[0-9a-f]{8}  ")


def obeyed(data: bytes) -> list[str]:
    """What a terminal would act on in `data` (empty when the bytes are safe to show)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"not UTF-8 (a raw C1 byte?): {exc}"]
    found = []
    for char in set(text):
        code = ord(char)
        if (code < 0x20 and char not in "\t\n\r") or 0x7F <= code <= 0x9F or char in BIDI:
            found.append(f"U+{code:04X}")
    return sorted(found)


@dataclass
class Ran:
    args: tuple[str, ...]
    code: int
    out: bytes
    err: bytes

    @property
    def text(self) -> str:
        return self.out.decode().replace("\r\n", "\n")


def env() -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k != "POTLUCK_HOME"},
        "TERM": "xterm-256color",
        "PYTHONUNBUFFERED": "1",
    }


def in_pty(home: Path, *args: str, timeout: float = 60) -> Ran:
    """Run `potluck --home HOME ARGS` with stdout and stderr each on a pseudo-terminal."""
    out_master, out_slave = pty.openpty()
    err_master, err_slave = pty.openpty()
    proc = subprocess.Popen(
        [POTLUCK, "--home", str(home), *args],
        stdin=subprocess.DEVNULL,
        stdout=out_slave,
        stderr=err_slave,
        env=env(),
    )
    os.close(out_slave)
    os.close(err_slave)
    got = {out_master: bytearray(), err_master: bytearray()}
    out = err = b""
    deadline = time.monotonic() + timeout
    while got and time.monotonic() < deadline:
        ready, _, _ = select.select([fd for fd in (out_master, err_master) if fd in got], [], [], 1)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed its end
                data = b""
            if data:
                got[fd] += data
            else:
                os.close(fd)
                result = bytes(got.pop(fd))
                if fd == out_master:
                    out = result
                else:
                    err = result
        if not got:
            break
    for fd in got:
        os.close(fd)
    code = proc.wait(timeout=max(1, deadline - time.monotonic()))
    return Ran(args, code, out, err)


class PtyServe:
    """`potluck serve` with its output on a pseudo-terminal, read as it comes."""

    def __init__(self, home: Path, *args: str) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [POTLUCK, "--home", str(home), "serve", "--port", "0", "--no-mdns", *args],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            env=env(),
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def text(self) -> str:
        return bytes(self.output).decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text())
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in:\n{self.text()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.reader.join(5)
        os.close(self.master)
        return self.proc.returncode


def name_board(home: Home, board_id: str, text: str) -> None:
    """Write `text` as the board's name and as this device's member name, past every check."""

    def write(doc: Document) -> None:
        with doc.change() as w:
            w.put_str(ROOT, "name", text)
        set_member(doc, home.device_id, text, text, 1)

    home.store.documents.update(board_id, BOARD_DOC_ID, write, create=True)


@dataclass
class Scene:
    bad: Path
    victim: Path
    main_board: str
    main_code: str
    items: list[str]
    files: Path
    ran: list[Ran]


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """The bad device's home with the corpus written everywhere, and a victim who joined its
    boards with hostile invite codes and imported their exports (all in a pty)."""
    root = tmp_path_factory.mktemp("hostile")
    files = root / "files"
    files.mkdir()
    victim = root / "victim"
    ran: list[Ran] = []
    with Home.open(root / "bad") as bad:
        bad.store.db.set_setting("name", HOSTILE_NAME)  # past set_profile's checks
        main = bad.new_board("Kitchen")
        items = write_corpus(bad, main.board_id)
        code = encode_invite(Invite(main.key, HOSTILE_NAME, ()))
        bad.export_board(bad.board(main.board_id), files / "main.potluck")
        codes = []
        for n, text in enumerate(CORPUS):
            board = bad.new_board(f"board {n}")
            name_board(bad, board.board_id, text)
            codes.append(encode_invite(Invite(board.key, text, ())))
            bad.export_board(bad.board(board.board_id), files / f"board{n}.potluck")
    ran.append(in_pty(victim, "whoami", "--name", "Vic"))
    ran.append(in_pty(victim, "join", code))
    ran.append(in_pty(victim, "import", str(files / "main.potluck")))
    for n, board_code in enumerate(codes):
        ran.append(in_pty(victim, "join", board_code))
        ran.append(in_pty(victim, "import", str(files / f"board{n}.potluck")))
    yield Scene(root / "bad", victim, main.board_id, code, items, files, ran)


def assert_clean(runs: list[Ran]) -> None:
    bad = {
        " ".join(r.args)[:80]: (obeyed(r.out), obeyed(r.err))
        for r in runs
        if obeyed(r.out) or obeyed(r.err)
    }
    assert bad == {}
    tracebacks = [r.args for r in runs if b"Traceback" in r.err]
    assert tracebacks == []


def test_every_command_shows_the_corpus_and_obeys_none_of_it(scene: Scene) -> None:
    victim, board = scene.victim, scene.main_board[:8]
    runs = list(scene.ran)
    assert [r.code for r in runs] == [0] * len(runs), [r for r in runs if r.code]
    on = ("--board", board)
    project = scene.items[2]  # one string's items, in Kind order: need, offer, project, …
    proposal = scene.items[4]
    for args in [
        ("boards",),
        ("boards", "--json"),
        ("whoami",),
        ("whoami", "--json"),
        (*on, "invite"),
        (*on, "invite", "--json"),
        (*on, "ls"),
        (*on, "ls", "--json"),
        (*on, "ls", "--search", "bikes"),
        (*on, "ls", "--tag", "tag3"),
        (*on, "respond", project, "--as", "task"),
        (*on, "respond", proposal, "--as", "concern", "--note", "too loud"),
        (*on, "reply", project, "Count me in"),
        (*on, "status", project, "met"),
        (*on, "export", str(scene.files / "again.potluck")),
        (*on, "import", str(scene.files / "again.potluck")),
        ("peers",),
        ("peers", "--json"),
    ]:
        runs.append(in_pty(victim, *args))
    assert [r.code for r in runs] == [0] * len(runs), [r for r in runs if r.code]
    for n in range(len(CORPUS)):  # one item of each string, of every kind in turn
        item = scene.items[n * 6 + n % 6]
        runs.append(in_pty(victim, *on, "show", item))
        runs.append(in_pty(victim, *on, "show", item, "--json"))
    assert [r.code for r in runs] == [0] * len(runs), [r for r in runs if r.code]
    refused = [
        in_pty(victim, "--board", "nowhere", "ls"),  # the refusal lists every board's name
        in_pty(victim, *on, "edit", project, "--title", "mine now"),  # names the author
        in_pty(victim, *on, "post", "need", "\x1b]0;mine\x07"),
        in_pty(victim, *on, "respond", project, "--as", "shift"),  # a hostile rule: no dates
    ]
    assert [r.code for r in refused] == [1, 1, 1, 1]
    assert all(len(r.err.splitlines()) == 1 for r in refused), refused
    assert b"^[]0;window title^Gset" in refused[0].err
    assert b"^[" in refused[2].err and b"escape" in refused[2].err
    assert_clean(runs + refused)

    # What a script reads is exactly what the board holds.
    listed = json.loads(in_pty(victim, *on, "ls", "--json").text)
    assert {i["title"] for i in listed} == {t[:MAX_TITLE_SHOWN] for t in CORPUS}
    boards = {b["name"] for b in json.loads(in_pty(victim, "boards", "--json").text)}
    assert {t[:MAX_TITLE_SHOWN] for t in CORPUS} <= boards
    took = next(r for r in runs if r.args[-2:] == ("--as", "task")).text
    assert "You took the task '" + printable(CORPUS[0])[:40] in took


def test_ls_and_show_keep_every_one_line_field_on_its_line(scene: Scene) -> None:
    """Depends on tui/cli/render.py printing each field with `printable` (the UI's change):
    a newline in a title or a tag is shown as ^J, never as a line of its own."""
    on = ("--board", scene.main_board[:8])
    ls = in_pty(scene.victim, *on, "ls")
    lines = ls.text.splitlines()
    assert len(lines) == len(scene.items), ls.text[:2000]
    assert all(ITEM_ID.match(line) for line in lines), [
        line[:60] for line in lines if not ITEM_ID.match(line)
    ]
    for text in CORPUS:
        assert printable(text[:MAX_TITLE_SHOWN])[:60] in ls.text
    for n, text in enumerate(CORPUS):
        shown = in_pty(scene.victim, *on, "show", scene.items[n * 6]).text
        assert shown.splitlines()[0].startswith(printable(text[:MAX_TITLE_SHOWN])[:60]), shown


def test_the_corpus_over_real_sync_and_in_the_log(scene: Scene, tmp_path: Path) -> None:
    """A second victim gets the corpus from the bad device's `potluck serve`; its own serve's
    log, `potluck peers` and the board, all read in a pty."""
    victim = tmp_path / "synced"
    runs = [in_pty(victim, "whoami", "--name", "Syl"), in_pty(victim, "join", scene.main_code)]
    bad = PtyServe(scene.bad)
    mine = None
    try:
        port = int(bad.wait_for(r"on port (\d+)").group(1))
        mine = PtyServe(victim, "--peer", f"127.0.0.1:{port}")
        wanted = len(scene.items)
        wait_sync(lambda: len(db_rows(victim, "SELECT id FROM items")) >= wanted, 60, "the corpus")
        mine.wait_for(r"joined board")
        wait_sync(
            lambda: json.loads(in_pty(victim, "peers", "--json").text)["peers"],
            20,
            "the peer in node.json",
        )
        runs += [in_pty(victim, "peers"), in_pty(victim, "peers", "--json")]
        peers = runs[-2].text
        assert printable(HOSTILE_NAME) in peers and "(" in peers
        [peer] = json.loads(runs[-1].text)["peers"]
        assert peer["name"] == HOSTILE_NAME and re.fullmatch(r"[0-9a-f-]{14}", peer["fingerprint"])
    finally:
        codes = [s.stop() for s in (mine, bad) if s is not None]
    assert codes == [0] * len(codes)
    assert mine is not None
    runs += [in_pty(victim, "ls"), in_pty(victim, "boards")]
    for n in range(0, len(CORPUS), 3):
        runs.append(in_pty(victim, "show", scene.items[n * 6 + 5]))
    assert [r.code for r in runs] == [0] * len(runs), [r for r in runs if r.code]
    assert_clean(runs)
    log = bytes(mine.output)
    assert obeyed(log) == [], log.decode(errors="replace")[-3000:]
    assert b"Traceback" not in log
    assert printable(HOSTILE_NAME).encode() in log
