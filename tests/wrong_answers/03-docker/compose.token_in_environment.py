%%writefile docker_work/compose.yaml
# Writes the registry token into environment: instead of reading it from the .env file.
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
      MODEL_REGISTRY_TOKEN: mrt_live_7f3a9c21d4e8b6
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
    restart: unless-stopped
