"""CRM adapters: the embedded SQLite CRM (default) and an HTTP adapter.

Never imports the call store or the interpreter.
"""
