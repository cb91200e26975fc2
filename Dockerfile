# The API and web app: `iris serve --workers 0` (the GPU workers run from Dockerfile.worker).
# Build: docker build -t iris-api .
FROM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/ ./
RUN npm ci --no-audit --no-fund && npm run build

FROM python:3.11-slim-bookworm
# Production mode: the settings refuse the development key and example secrets at start.
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 IRIS_ENV=production \
    IRIS_DATA_DIR=/var/lib/iris IRIS_WEB_DIR=/opt/iris/web
WORKDIR /opt/iris
# Every Python package pinned with its hashes (deploy/requirements.lock, made by scripts/lock.sh);
# Iris itself is then installed without resolving anything.
COPY deploy/build-requirements.lock deploy/requirements.lock deploy/
RUN pip install --require-hashes --no-deps -r deploy/build-requirements.lock \
    && pip install --require-hashes --no-deps --no-build-isolation -r deploy/requirements.lock
COPY pyproject.toml README.md ./
COPY src/ src/
RUN pip install --no-deps --no-build-isolation .
COPY --from=web /src/web/dist /opt/iris/web
RUN useradd --system --home /var/lib/iris iris && mkdir -p /var/lib/iris && chown iris /var/lib/iris
USER iris
EXPOSE 8000
CMD ["iris", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "0"]
