"""The person-facing parts: the `potluck` command line and the Textual board."""
