%%writefile kubernetes_work/service.yaml
# The selector copies the Deployment's own metadata.labels, which the pods do not carry: it selects no pods.
apiVersion: v1
kind: Service
metadata:
  name: churn-api
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/part-of: churn
  ports:
    - name: http
      port: 80
      targetPort: http
