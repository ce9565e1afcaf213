# uvicorn by its full path in the venv (no PATH change), PIP_NO_CACHE_DIR instead of the flag.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM ${BASE_IMAGE}
RUN useradd --uid 10001 svc
WORKDIR /srv
COPY --from=builder /opt/venv /opt/venv
COPY model/ /srv/model/
COPY app/ /srv/app/
ENV PYTHONUNBUFFERED=1 LOG_LEVEL=info MODEL_PATH=/srv/model/churn-model.joblib
USER svc
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health', timeout=3)"]
CMD ["/opt/venv/bin/uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
