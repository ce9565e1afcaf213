%%writefile docker_work/Dockerfile.cached
# Copies the model together with requirements.txt before pip install: every retrained model re-runs the install.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

WORKDIR /srv
COPY requirements.txt .
COPY model/ ./model/
RUN pip install --no-cache-dir -r requirements.txt
COPY app/ ./app/
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
