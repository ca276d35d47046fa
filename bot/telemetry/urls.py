"""URLs as traces may show them: the route, not whose conversation or which activity."""

from __future__ import annotations

import re

from yarl import URL

# A path segment kept as is: a word such as `v3`, `conversations` or `.well-known`. Anything
# else (a conversation id `a:1xyz…`, an activity id, an e-mail address) becomes `{id}`.
WORD = re.compile(r"\.?[A-Za-z][A-Za-z_-]{0,39}[0-9]?|v[0-9]+(\.[0-9]+)?")


def without_ids(url: URL) -> str:
    """Scheme, host and the path with ids replaced; no query, no fragment, no credentials."""
    segments = [
        segment if not segment or WORD.fullmatch(segment) else "{id}"
        for segment in url.path.split("/")[1:]
    ]
    port = "" if url.port in (None, 80, 443) or url.is_default_port() else f":{url.port}"
    return f"{url.scheme}://{url.host}{port}/" + "/".join(segments)
