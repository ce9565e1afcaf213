%%writefile docker_work/Dockerfile.first
# Leaves out --host, so uvicorn listens on 127.0.0.1 inside the container and a published port reaches nothing.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app/ ./app/
COPY model/ ./model/
CMD ["uvicorn", "app.main:app", "--port", "8000"]
