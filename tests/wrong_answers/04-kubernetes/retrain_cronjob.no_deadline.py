%%writefile kubernetes_work/retrain-cronjob.yaml
# No activeDeadlineSeconds: with concurrencyPolicy Forbid, one hung training blocks every later night.
apiVersion: batch/v1
kind: CronJob
metadata:
  name: churn-retrain
spec:
  schedule: "30 2 * * *"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: train
              image: registry.example.com/mlops/churn-train:1.4.0
              command: ["python", "-m", "churn.train"]
              resources:
                requests:
                  cpu: "1"
                  memory: 2Gi
                limits:
                  cpu: "2"
                  memory: 4Gi
