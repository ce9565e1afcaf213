%%writefile kubernetes_work/deployment.yaml
# The selector uses a different label value than the pod template, so the Deployment does not own its pods.
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
      app: churn
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
