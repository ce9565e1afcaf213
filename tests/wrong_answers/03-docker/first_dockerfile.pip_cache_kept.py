%%writefile docker_work/Dockerfile.first
# pip install without --no-cache-dir: hadolint DL3042, the download cache ships in the layer.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

WORKDIR /srv
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY app/ ./app/
COPY model/ ./model/
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
