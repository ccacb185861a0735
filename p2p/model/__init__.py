"""The board model: plain types, and the automerge documents that hold a board and its items."""
