# Believes base64 encrypts a Secret's values, and answers only four of the five questions.
quiz_answers = {
    "selector": "Ready pods whose own labels, from the pod template, include app: churn-api",
    "overload": "Its readinessProbe fails, and the Service stops sending it requests until it "
                "recovers",
    "secret": "Secret values are encrypted, because they are base64-encoded",
    "image_tag": "The tag names the model version: every node runs the same build, and a "
                 "rollback has a target",
}
