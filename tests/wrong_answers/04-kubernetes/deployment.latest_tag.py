%%writefile kubernetes_work/deployment.yaml
# The image uses the :latest tag instead of the pinned model version.
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
          image: registry.example.com/mlops/churn-api:latest
          ports:
            - name: http
              containerPort: 8000
