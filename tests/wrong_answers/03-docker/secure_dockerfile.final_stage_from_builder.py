%%writefile docker_work/Dockerfile.secure
# The final stage starts FROM builder, so pip and everything the build left ships anyway.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM builder
RUN useradd --create-home --uid 10001 churn
WORKDIR /srv
ENV PATH="/opt/venv/bin:$PATH"
COPY model/ ./model/
COPY app/ ./app/
USER 10001
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
