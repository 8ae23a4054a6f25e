"""What may be shown of a value that can carry a secret: a URL without its credentials or query."""

from __future__ import annotations

from urllib.parse import urlsplit


def shown_url(url: str) -> str:
    """A URL as it may be logged or printed: scheme, host and path. The
    user:password part and the query string could carry a secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"
