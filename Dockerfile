# The API and web app: `iris serve --workers 0` (the GPU workers run from Dockerfile.worker).
# Build: docker build -t iris-api .
FROM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/ ./
RUN npm ci --no-audit --no-fund && npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    IRIS_DATA_DIR=/var/lib/iris IRIS_WEB_DIR=/opt/iris/web
WORKDIR /opt/iris
COPY pyproject.toml README.md ./
COPY src/ src/
# The CPU build of torch: the API never runs a model (it reads uploads and serves files).
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" \
    && pip install .
COPY --from=web /src/web/dist /opt/iris/web
RUN useradd --system --home /var/lib/iris iris && mkdir -p /var/lib/iris && chown iris /var/lib/iris
USER iris
EXPOSE 8000
CMD ["iris", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "0"]
