%%writefile docker_work/compose.yaml
# The health check calls curl, which the slim Python image does not have.
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
      test: ["CMD-SHELL", "curl -f http://localhost:8000/health || exit 1"]
      interval: 10s
      timeout: 3s
      retries: 3
    deploy:
      resources:
        limits:
          cpus: "1.0"
          memory: 512m
    restart: unless-stopped
