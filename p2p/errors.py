"""The error family of the p2p layer: every message is one line a person can act on."""


class PotluckError(Exception):
    """Base of every expected failure; the CLI and UI show its message as it is."""


class HomeError(PotluckError):
    """The home directory, its database or its key file cannot be used."""


class BoardNotFound(PotluckError):
    """No board matches what was asked for, or the home has no board yet."""


class ItemNotFound(PotluckError):
    """No item, or more than one, matches an id or id prefix."""


class InviteError(PotluckError):
    """An invite code is mistyped, truncated or not a Potluck code."""


class InvalidInput(PotluckError):
    """A value given by a person is not acceptable (empty title, unknown kind, …)."""


class DamagedDocument(PotluckError):
    """A stored or received document could not be loaded by automerge."""


class RefusedChange(DamagedDocument):
    """A change that is unsigned, mis-signed or breaks the board's rules: nothing of it, and
    nothing that depends on it, is stored or passed on."""


class BadSignature(RefusedChange):
    """A change without a valid signature by the device its actor id names."""


class ForbiddenChange(RefusedChange):
    """A validly signed change that does what its device may not (writes as someone else)."""


class ExportError(PotluckError):
    """An export file cannot be read: wrong board, damaged or not an export."""


class ProtocolError(PotluckError):
    """A peer sent bytes that break PROTOCOL.md; only that connection is closed."""


class HandshakeError(ProtocolError):
    """The Noise handshake failed: wrong board key, not a Potluck peer, or a cut connection."""


class NodeError(PotluckError):
    """The network node cannot run (another node holds the home, no port to listen on, …)."""
