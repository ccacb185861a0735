"""Everything below the user interface: the board model, storage, sync and discovery."""
