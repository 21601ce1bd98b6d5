# syntax=docker/dockerfile:1
# dunbot image: `dunbot db upgrade`, then `dunbot serve --host 0.0.0.0` on port 8000.
#   docker build -t dunbot .
#   docker run --env-file .env -p 8000:8000 -v dunbot-data:/data dunbot
# Scale-out on PostgreSQL: see docker-compose.yml (web + `dunbot worker`).

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: resolve from uv.lock into /app/.venv (no dev tools, the project not editable) ----
FROM ${PYTHON_IMAGE} AS build
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lock changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project
COPY pyproject.toml uv.lock README.md ./
COPY bot ./bot
COPY prompts ./prompts
COPY recovery ./recovery
COPY storage ./storage
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# --- runtime: the virtual environment only, run as an unprivileged user ----------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 dunbot \
 && useradd --system --uid 10001 --gid dunbot --home-dir /app --shell /usr/sbin/nologin dunbot \
 && mkdir -p /data \
 && chown dunbot:dunbot /data
COPY --from=build --chown=dunbot:dunbot /app/.venv /app/.venv
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/dunbot-entrypoint
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8000 \
    LOG_FORMAT=json \
    DATABASE_URL=sqlite+aiosqlite:////data/dunbot.db \
    EMAIL_OUTBOX_DIR=/data/outbox
WORKDIR /data
USER dunbot:dunbot
VOLUME ["/data"]
EXPOSE 8000
# GET /healthz: 200 when the app is up and its database reachable (urlopen raises otherwise).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz\", timeout=4)"]
ENTRYPOINT ["dunbot-entrypoint"]
CMD ["sh", "-c", "exec dunbot serve --host 0.0.0.0 --port \"${PORT}\""]
