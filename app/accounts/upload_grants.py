"""How many upload policies a user may be given an hour (the ``upload_grants`` table).

Every policy lets its holder store one object until it expires, and the store only
removes the ones that never became a job after that (the sweep, S3's lifecycle
rule): without a cap, one account could fill the disk or the bucket with uploads
nobody annotates. A fixed window per user, counted in PostgreSQL so every web
instance counts the same policies; one statement, one row a user.
"""

from __future__ import annotations

import math

from databases import Database

from app.infra.db import fetchrow

WINDOW_SECONDS = 3600

_GRANT = """
INSERT INTO upload_grants AS g (user_id, window_start, granted) VALUES ($1, now(), 1)
ON CONFLICT (user_id) DO UPDATE SET
    window_start = CASE WHEN g.window_start <= now() - make_interval(secs => $2)
                        THEN now() ELSE g.window_start END,
    granted = CASE WHEN g.window_start <= now() - make_interval(secs => $2)
                   THEN 1 ELSE g.granted + 1 END
RETURNING granted,
    extract(epoch FROM window_start + make_interval(secs => $2) - now())::float8 AS seconds_left
"""


async def grant(db: Database, user_id: str, per_window: int) -> int | None:
    """Count one more policy for the user; None if it is within ``per_window``, else
    the seconds until the window ends and policies may be given again."""
    row = await fetchrow(db, _GRANT, user_id, WINDOW_SECONDS)
    assert row is not None
    if row["granted"] <= per_window:
        return None
    return max(1, math.ceil(row["seconds_left"]))
