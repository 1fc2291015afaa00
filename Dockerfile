# The scoring API as an image: slim, runs as a non-root user, healthy once /ready answers 200.
# The model comes from a mounted folder (CLAIMRISK_SERVE_MODEL=/models/NAME, the default
# /models/current) or from the MLflow registry (CLAIMRISK_SERVE_MODEL=champion and
# CLAIMRISK_TRACKING_URI=http://...). Build: docker build -t claimrisk .
# The same image runs a Dask scheduler and workers for `--cluster tcp://...` (the dask CLI
# comes with `distributed`): `dask scheduler` and `dask worker tcp://SCHEDULER:8786`, so
# client, scheduler and workers run the same code and versions (compose.yaml, profile cluster).
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/app/.venv
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY features features
COPY scoring scoring
COPY training training
COPY serving serving
COPY simulator simulator
COPY analytics analytics
COPY client client
COPY cli cli
RUN uv sync --locked --no-dev --no-editable

FROM python:3.11-slim
# LightGBM needs the OpenMP runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 claimrisk \
    && mkdir /data /models \
    && chown claimrisk /data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OMP_WAIT_POLICY=PASSIVE \
    CLAIMRISK_SERVE_MODEL=/models/current \
    CLAIMRISK_SERVE_API_KEYS_FILE=/data/api_keys.json \
    CLAIMRISK_SERVE_PREDICTION_STORE=/data/predictions.db \
    CLAIMRISK_SERVE_STATE_FILE=/data/serve_state.db \
    CLAIMRISK_TRACKING_URI=sqlite:////data/mlflow.db \
    CLAIMRISK_ARTIFACT_ROOT=/data/mlartifacts
USER claimrisk
WORKDIR /data
EXPOSE 8000 8786 8787
HEALTHCHECK --interval=10s --timeout=3s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2).status != 200)"]
CMD ["claimrisk", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
