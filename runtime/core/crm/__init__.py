"""CRM adapters: the embedded SQLite CRM (default) and an HTTP adapter."""
