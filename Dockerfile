# syntax=docker/dockerfile:1
# Galaxy Chat: a builder stage makes the virtualenv with uv; the runtime stage gets only that venv and the app.
#
#   docker build -t galaxy-chat .
#   docker run -p 8080:8080 -e TRUSTED_PROXY_SECRET=… galaxy-chat        (README: "Running it")
#
# BASE is any Debian-based image with python3 (>= 3.11) and apt-get: python:3.12-slim by default; CI builds
# with a minimal Debian 12 base of its own (deploy/check-image.sh). Both stages use the same BASE, so the
# venv's interpreter is the runtime's. Behind a TLS-inspecting proxy, pass its CA bundle as the build secret
# "ca" (docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt); it never lands in a layer.
ARG BASE=python:3.12-slim

FROM ${BASE} AS builder
ARG UV_VERSION=0.13.9
# Bytecode compiled at install (the python tool's sandbox sees the venv read-only); the base's python3, never a
# downloaded one; copies, not hard links, out of the cache mount.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /app
# The venv's python links straight to the real interpreter file (/usr/bin/python3.11, not the python3 alias):
# bubblewrap binds only that file of a distribution Python, so a link through /usr/bin/python3 would dangle.
SHELL ["/bin/sh", "-eu", "-c"]
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    python3 -m venv /opt/uv && /opt/uv/bin/pip install --quiet "uv==${UV_VERSION}"
# Dependencies first: this layer is rebuilt only when pyproject.toml or uv.lock change (README.md, the project's
# readme, is needed only to install the project itself, so editing it does not reinstall the dependencies).
COPY pyproject.toml uv.lock ./
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi; \
    /opt/uv/bin/uv sync --frozen --no-dev --extra datasci --no-install-project \
        --python "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')"
# Then the project itself (hatch packages galaxy_chat, tools and access; installed editable, pointing at /app).
COPY README.md ./
COPY galaxy_chat ./galaxy_chat
COPY tools ./tools
COPY access ./access
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.cache/uv \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi; \
    /opt/uv/bin/uv sync --frozen --no-dev --extra datasci \
        --python "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')"

FROM ${BASE}
ARG DEBIAN_FRONTEND=noninteractive
# bubblewrap: the python tool's sandbox; tini: PID 1 that forwards signals and reaps children.
# Versions are not pinned: they come from the base's Debian release and its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap tini \
    && rm -rf /var/lib/apt/lists/* \
    && echo "app:x:10001:10001:Galaxy Chat:/app:/usr/sbin/nologin" >> /etc/passwd \
    && echo "app:x:10001:" >> /etc/group
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY config ./config
COPY system_prompt.md ./
# The shipped document sources (DATA_DIR/sources). A new named volume on /app/data starts as a copy of
# /app/data; /app/seed keeps one more for volumes that do not (Kubernetes: an init container copies it).
COPY data/sources ./seed/sources
COPY galaxy_chat ./galaxy_chat
COPY tools ./tools
COPY access ./access
# The app's own modules compiled too (root-owned, read-only at run time); logs and data belong to the app user.
RUN /app/.venv/bin/python -m compileall -q galaxy_chat tools access \
    && mkdir -p /app/logs /app/data \
    && chown 10001:10001 /app/logs /app/data \
    && cp -a /app/seed/sources /app/data/sources

# On SIGTERM, running replies get DRAIN_TIMEOUT_S (3 s here) to finish, then open connections SHUTDOWN_TIMEOUT_S
# (5 s); the app exits 0 inside the 10 s of `docker stop`. Compose and Kubernetes give 25 s with longer grace periods.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOG_DIR=/app/logs \
    DATA_DIR=/app/data \
    SHUTDOWN_TIMEOUT_S=5 \
    DRAIN_TIMEOUT_S=3 \
    NICEGUI_STORAGE_PATH=/app/data/.nicegui
USER 10001:10001
EXPOSE 8080
VOLUME ["/app/logs", "/app/data"]
# /health is public and cheap; Python instead of curl (not in the image), never through an HTTP proxy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.build_opener(r.ProxyHandler({})).open('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8080'), timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "--", "galaxy-chat"]
