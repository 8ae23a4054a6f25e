"""The indefinite article of an English word, for messages: "an agent", "a queue". One rule
for the compiler's diagnostics, the runtime's errors and the console's refusals; imports nothing."""

from __future__ import annotations


def article(words: str) -> str:
    """`words` with "a" or "an" before it, chosen by its first letter."""
    return ("an " if words[:1].lower() in ("a", "e", "i", "o", "u") else "a ") + words
