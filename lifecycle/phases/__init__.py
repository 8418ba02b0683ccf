"""The lifecycle phases: each returns a value; the CLI writes the files."""
