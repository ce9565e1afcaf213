%%writefile docker_work/compose.yaml
# No restart policy: after a crash (an out-of-memory kill under the limit) the service stays down.
services:
  churn:
    build:
      context: .
      args:
        BASE_IMAGE: ${BASE_IMAGE:-python:3.11-slim}
    image: churn-service:1.0.0
    ports:
      - "8000:8000"
    environment:
      LOG_LEVEL: info
    env_file: .env
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
      interval: 10s
      timeout: 3s
      retries: 3
      start_period: 30s
    deploy:
      resources:
        limits:
          cpus: "1.0"
          memory: 512m
