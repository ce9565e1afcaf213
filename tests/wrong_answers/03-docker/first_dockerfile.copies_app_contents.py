%%writefile docker_work/Dockerfile.first
# COPY app/ . copies the contents of app/ into /srv, so there is no app/ package for uvicorn to import.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app/ .
COPY model/ ./model/
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
