%%writefile kubernetes_work/retrain-cronjob.yaml
# restartPolicy Always, the pod default, which a Job's pods may not use.
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
      activeDeadlineSeconds: 7200
      template:
        spec:
          restartPolicy: Always
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
