"""The subcommands of `peacegraph`, one module each: read the parsed arguments, call the library,
print. The library modules below never import from here."""
