%%writefile kubernetes_work/service.yaml
# targetPort is the number 8000 instead of the port's name, so the Service breaks when the container port moves.
apiVersion: v1
kind: Service
metadata:
  name: churn-api
spec:
  type: ClusterIP
  selector:
    app: churn-api
    component: model-server
  ports:
    - name: http
      port: 80
      targetPort: 8000
