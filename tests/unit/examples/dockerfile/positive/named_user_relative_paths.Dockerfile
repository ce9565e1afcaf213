# A named user created with useradd, relative MODEL_PATH, separate ENV lines, /app as WORKDIR.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS deps
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM ${BASE_IMAGE}
RUN useradd --system --no-create-home --uid 999 app
WORKDIR /app
COPY --from=deps /venv /venv
ENV PATH=/venv/bin:$PATH
ENV PYTHONUNBUFFERED=1
ENV LOG_LEVEL=warning
ENV MODEL_PATH=model/churn-model.joblib
COPY model ./model
COPY app ./app
USER app
EXPOSE 8000/tcp
HEALTHCHECK --interval=15s --timeout=2s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/health', timeout=1)"]
ENTRYPOINT ["uvicorn"]
CMD ["app.main:app", "--host=0.0.0.0", "--port=8000"]
