%%writefile docker_work/compose.yaml
# Puts resources: directly under the service instead of under deploy:, which the Compose spec rejects.
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
    resources:
      limits:
        cpus: "1.0"
        memory: 512m
    restart: unless-stopped
