%%writefile docker_work/Dockerfile.secure
# Switches to USER churn without creating the user: the container fails to start.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM ${BASE_IMAGE}
WORKDIR /srv
ENV PATH="/opt/venv/bin:$PATH"
COPY --from=builder /opt/venv /opt/venv
COPY model/ ./model/
COPY app/ ./app/
USER churn
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
