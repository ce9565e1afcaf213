# finding: no ARG BASE_IMAGE before the first FROM
FROM python:3.11-slim AS builder
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 churn
WORKDIR /srv
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    MODEL_PATH=/srv/model/churn-model.joblib \
    LOG_LEVEL=info
COPY --from=builder /opt/venv /opt/venv
COPY model/ ./model/
COPY app/ ./app/
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
