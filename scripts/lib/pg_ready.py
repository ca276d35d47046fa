"""Exit 0 if the PostgreSQL server of the given SQLAlchemy URL answers, 1 otherwise."""

import asyncio
import sys

import asyncpg
from sqlalchemy.engine import make_url


async def main(url: str) -> int:
    parsed = make_url(url)
    try:
        connection = await asyncpg.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
            timeout=3,
        )
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return 1
    await connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
