# Production image of Puhelinbotti: `phonebot serve` behind the city's HTTPS reverse proxy.
# Build: docker build -t puhelinbotti .   (see docs/container.md)
#
# Two stages on the same base: `build` installs the project and its dependencies into a virtual
# environment; `runtime` copies that environment and adds only what runs beside it (Voikko).
# The base is the official python:3.11-slim-bookworm, named in full so Docker and Podman agree.
# PYTHON_IMAGE may point at a mirror or a digest of the same image; it must stay Python 3.11 on
# Debian bookworm, since the environment is copied across as built.
ARG PYTHON_IMAGE=docker.io/library/python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python -m venv /opt/puhelinbotti \
    && /opt/puhelinbotti/bin/python -m pip install --upgrade pip

WORKDIR /src
# Only what `pip install .` reads: the build configuration, the package readme and the package.
# The dependencies go first, in a layer that is rebuilt only when pyproject.toml changes; then
# the project itself, and `pip check` that nothing it needs is missing.
COPY pyproject.toml ./
RUN /opt/puhelinbotti/bin/python -c 'import tomllib; \
        project = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
        print(*project["dependencies"], sep="\n")' > /tmp/dependencies.txt \
    && /opt/puhelinbotti/bin/python -m pip install --requirement /tmp/dependencies.txt
COPY README.md ./
COPY bot ./bot
RUN /opt/puhelinbotti/bin/python -m pip install --no-deps . \
    && /opt/puhelinbotti/bin/python -m pip check \
    && /opt/puhelinbotti/bin/phonebot --help > /dev/null


FROM ${PYTHON_IMAGE} AS runtime

# Voikko: the C library and its Finnish dictionary, which the FAQ matcher's Python binding loads
# (bot/faq/morphology.py); without them it would fall back to stemming.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libvoikko1 voikko-fi \
    && rm -rf /var/lib/apt/lists/*

# A fixed, numeric, unprivileged account, so orchestrators can check runAsNonRoot.
RUN groupadd --gid 10001 phonebot \
    && useradd --uid 10001 --gid phonebot --no-create-home \
        --home-dir /srv/puhelinbotti --shell /usr/sbin/nologin phonebot

COPY --from=build /opt/puhelinbotti /opt/puhelinbotti

# The working directory is the bot's: the default SQLite database is var/puhelinbotti.sqlite3
# relative to it (PostgreSQL through DATABASE_URL in production). Only var/ is writable.
WORKDIR /srv/puhelinbotti
RUN mkdir var && chown phonebot:phonebot var && chmod 0750 var

ENV PATH=/opt/puhelinbotti/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

USER 10001:10001

EXPOSE 3978

# `serve` stops in order on SIGTERM: /readyz answers 503 first, turns in flight finish
# (SHUTDOWN_GRACE_SECONDS + SHUTDOWN_TIMEOUT_SECONDS, 25 s by default: give the engine's stop
# timeout at least that).
STOPSIGNAL SIGTERM

# Liveness only (/healthz); readiness, which also checks the database, is /readyz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3978') + '/healthz', timeout=4)"]

# Exits with status 2, saying why, without MicrosoftAppId and a credential: authentication
# cannot be turned off on 0.0.0.0.
CMD ["phonebot", "serve", "--host", "0.0.0.0"]
