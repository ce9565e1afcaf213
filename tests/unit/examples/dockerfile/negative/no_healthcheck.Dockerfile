# finding: the image has no HEALTHCHECK
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM ${BASE_IMAGE}
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
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
