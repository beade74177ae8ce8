# The assistant's HTTP server (JSON API, Telegram webhook or polling, health, metrics).
# Build: docker build -t hohhot-assistant .   Run: docker run -p 8080:8080 --env-file .env hohhot-assistant
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    JIEBA_CACHE_DIR=/var/cache/hohhot-assistant/jieba \
    DATA_DIR=/var/lib/hohhot-assistant \
    HOST=0.0.0.0 \
    PORT=8080

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app

# Install from pyproject.toml with the same step as docs/http-api.md; the source tree is not kept.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY intents ./intents
COPY knowledge ./knowledge
RUN pip install .

# Build jieba's prefix-dictionary cache (and the example index) now, so the server starts fast. The runtime
# user owns the folder: intents/cache.py uses it only when writable, else falls back to the temp folder.
WORKDIR /home/app
RUN rm -rf /src \
    && mkdir -p "$JIEBA_CACHE_DIR" "$DATA_DIR" \
    && python -m bot ask 企业开办要几天 \
    && rm -rf "$DATA_DIR"/* \
    && chown -R app:app "$JIEBA_CACHE_DIR" "$DATA_DIR"
# The SQLite store (when DATABASE_URL is unset): keep it on a volume so records survive a new container.
VOLUME ["/var/lib/hohhot-assistant"]

USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"
CMD ["python", "-m", "bot", "serve"]
