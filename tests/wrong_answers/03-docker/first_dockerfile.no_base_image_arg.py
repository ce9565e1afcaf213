%%writefile docker_work/Dockerfile.first
# Hard-codes FROM python:3.11-slim, so a machine with no registry cannot build it on a local base.
FROM python:3.11-slim

WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app/ ./app/
COPY model/ ./model/
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
