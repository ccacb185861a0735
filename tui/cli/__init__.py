"""The `potluck` command line, for people and for scripts; it never imports Textual."""
