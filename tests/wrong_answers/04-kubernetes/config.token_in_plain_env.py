%%writefile kubernetes_work/config.yaml
# The token is written as a plain env value in the Deployment instead of being read from the Secret.
apiVersion: v1
kind: ConfigMap
metadata:
  name: churn-api-config
data:
  MODEL_THRESHOLD: "0.35"
  LOG_LEVEL: "info"
---
apiVersion: v1
kind: Secret
metadata:
  name: churn-api-secrets
type: Opaque
stringData:
  MODEL_REGISTRY_TOKEN: dev-token-change-me
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: churn-api
  labels:
    app: churn-api
spec:
  replicas: 3
  selector:
    matchLabels:
      app: churn-api
  template:
    metadata:
      labels:
        app: churn-api
    spec:
      containers:
        - name: api
          image: registry.example.com/mlops/churn-api:1.4.0
          ports:
            - name: http
              containerPort: 8000
          envFrom:
            - configMapRef:
                name: churn-api-config
          env:
            - name: MODEL_REGISTRY_TOKEN
              value: dev-token-change-me
