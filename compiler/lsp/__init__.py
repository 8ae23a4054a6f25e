"""The language server for .ccf (`ccf lsp`): the compiler's own diagnostics, names and formatter
served to editors over the Language Server Protocol, on pygls.

The editor floor: it stands on the compiler and the language core and must
not import the runtime or the CLI. Only server.py imports pygls' server; the
feature modules take plain data and return lsprotocol types.
"""
