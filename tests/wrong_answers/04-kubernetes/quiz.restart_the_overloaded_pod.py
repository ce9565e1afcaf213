# Thinks liveness should restart a pod that is merely overloaded (readiness rests it; restarts turn a spike into an outage).
quiz_answers = {
    "selector": "Ready pods whose own labels, from the pod template, include app: churn-api",
    "overload": "Its livenessProbe restarts it, which frees its memory",
    "hpa_requests": "Utilisation is measured as a percentage of the pods' CPU request",
    "secret": "Separate access rules (RBAC), encryption at rest, and tools that keep the value "
              "out of git",
    "image_tag": "The tag names the model version: every node runs the same build, and a "
                 "rollback has a target",
}
