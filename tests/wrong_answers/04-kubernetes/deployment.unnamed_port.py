%%writefile kubernetes_work/deployment.yaml
# The container port is declared without its name http, so a Service or probe cannot refer to it by name.
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
            - containerPort: 8000
