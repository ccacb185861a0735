"""The person-facing parts: the `potluck` command line (`cli/`) and the Textual board."""
