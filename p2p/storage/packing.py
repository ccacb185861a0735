"""Documents at rest, packed: a document's automerge bytes deflated against a dictionary of
typical item documents, which holds what every item shares (the column layout automerge
writes, the field names `kind`, `title`, `body`, `tags`, `status`, …), so a small item keeps
little more than its own text, times and actor.

A packed snapshot (or change row) is `PACKED` then the raw deflate stream; anything else is
automerge's own bytes (whose chunks begin with its magic number, never `PACKED`), kept as they
are when packing would not make them smaller, and as every home before schema 5 kept them.
DICTIONARY never changes: a home may hold documents packed with it for ever (a better one would come
with its own first byte)."""

from __future__ import annotations

import zlib

from ..errors import DamagedDocument

PACKED = b"\x01"
"""The first byte of a packed snapshot."""
WINDOW = -12
"""zlib's wbits: a raw deflate stream (no header) with a window of 4 KiB, which holds the
dictionary and the start of the document."""
DICTIONARY = bytes.fromhex(
    "856f4a83c359849200e60301101b1a22ab68df34d6b067ff77521bfe6c01ffb93bf0a9672c0b522b19841282"
    "196c1e08e4d51b82230c104b3e52d44df0860701020302130423024004430356020e0104020f1106130d158d"
    "012102231b34054213561c5760800106810102830103030003017f1a020503007f0002017e00010307000b19"
    "00000b0f0302137e191a031b7f200221000c0e00000a000b7e00040d0100027f6f00077804626f6479076372"
    "6561746564046b696e64077265706c69657309726573706f6e73657306737461747573047461677305746974"
    "6c65030775706461746564000f7e0364697905746f6f6c730001792031623161323261623638646633346436"
    "6230363766663737353231626665366302696404746578740474696d650468656c70046e6f74650474696d65"
    "24007403146a18017c7d6f160705600e017b037f07057c02017f0302010b0f0201077f0402017c0200010015"
    "01020003017f0002017d00644602007d46007603640f16020202007ac601a601640086016485df9bfba2346e"
    "6565646f70656e41206472696c6c85df9bfba23487df9bfba2348cdf9bfba234666f722074776f207368656c"
    "766573303865636266636662323261492068617665206f6e6587df9bfba234746f6d6f72726f778cdf9bfba2"
    "34080002011a0002007e1f0502856f4a83e74348ca02e1012587bd4a03311cc0fff9f0421dc4228aa6cb213e"
    "c281bb889393828e92367f7aa1e1129214b9e17a4e1d7d01370717179fc2c9d9b5afe02eb43daecbef030e47"
    "f2fcb35c15bf5fd3cdf3dd686d0901807d92d16c981d0d8e6f0b7675f0307cbcf6149804101d59477ed6f702"
    "f82901d1f099a9f45e32c9221f3b5d83ac7952d398c5a4d23c8a494095508bb9d7bd037a6b300e0246efaad8"
    "95c689d1f834ae991494b45c9216186928906649be09c89305dc504da1d53e38efa2b2f7a50aa8f3e49c8d33"
    "449fa71277979baa9f58a2761eabd7d5dbff7bb1e3cbdfcff2e3f202b6856f4a83205018df02f301258d3b4e"
    "c3401445df7ce2c8080c288222692cd6e01520c1028214eac1f3482c8c679879264a119b8e961e0a44414343"
    "7680406209b459033512304a9a736f713fb033e81fbc4c96d9d7ebf86f3a1cfc968c01c0068b78b41bf5e2bd"
    "61260eb747bdd323cb41240071a008945b2bdf80dc6410cfe54551e90e1554a23c337a06c954921afbc893a2"
    "da7773878a50776bab57ead09605fad8a1b7a6f2e83b21e8486058b1a5ca51243167ad4c580b8235e19bcd47"
    "9f0c92fd068eb9e6c075fbccf01a2b3a218748a90df5d965ed8b3c55954ecf8dd1c66275b7bcff79cad6bc79"
    "fc7e5f646f0fb71f8b8c2698faab5a39ecc33f856f4a8349ef31a001ec0100101b1a22ab68df34d6b067ff77"
    "521bfe6c01010000000a010a020a1106130915493403420d560f573370020003120000017f00000500031203"
    "00017f16000500041100000700037e0004100100077d046b696e64057469746c6504626f6479001279047461"
    "67730667617264656e0673746174757307637265617465640775706461746564077265706c69657309726573"
    "706f6e73657303120702017f0412017f0004017e02007d56c6010012167d000246026402006f666665725370"
    "61726520706c616e7473746f6d61746f657320616e6420626173696c6f70656e91df9bfba23491df9bfba234"
    "1c00"
)
"""Four documents made by Potluck's code for this purpose and never changed since: a need with a
reply and a response, compacted; a proposal, an event and an offer as they are first posted."""


LARGEST = 64 * 1024
"""Bytes above which a document is kept as it is: the dictionary helps the start of a document
only, and automerge deflates the larger columns itself."""


def pack(data: bytes) -> bytes:
    """A document's bytes as the home keeps them: packed if that is smaller."""
    if not data or len(data) > LARGEST:
        return data
    # memLevel 1: as small as deflate's tables go (about 9 µs a small item, not 21 µs with
    # the default's, which are larger than the window they serve), for the same bytes.
    packer = zlib.compressobj(9, zlib.DEFLATED, WINDOW, 1, zlib.Z_DEFAULT_STRATEGY, DICTIONARY)
    packed = PACKED + packer.compress(data) + packer.flush()
    return packed if len(packed) < len(data) else data


def unpack(stored: bytes, what: str) -> bytes:
    """The automerge bytes of a snapshot as `pack` kept them; DamagedDocument if they cannot
    be unpacked (a damaged file)."""
    if stored[:1] != PACKED:
        return stored
    unpacker = zlib.decompressobj(WINDOW, DICTIONARY)
    try:
        data = unpacker.decompress(stored[1:]) + unpacker.flush()
    except zlib.error as exc:
        raise DamagedDocument(
            f"{what} is damaged: its stored bytes do not unpack ({exc})"
        ) from None
    if not unpacker.eof:
        raise DamagedDocument(f"{what} is damaged: its stored bytes end too soon")
    return data
