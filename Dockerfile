# Hezuo 合作 — the app image: `hezuo serve` with several uvicorn workers (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HEZUO_ENV=production \
    HEZUO_MEDIA_DIR=/app/var/media

WORKDIR /app

# The code stays in /app (an editable install), because `hezuo db upgrade` reads alembic.ini and
# migrations/ next to the packages. Files belong to root: the app user can read, not change, them.
# postgresql-client: pg_dump/pg_restore for `hezuo backup` and `hezuo restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN pip install -e . \
    && useradd --system --uid 10001 --home-dir /app --no-create-home hezuo \
    && mkdir -p /app/var/media \
    && chown -R hezuo:hezuo /app/var

USER hezuo
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["hezuo", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
