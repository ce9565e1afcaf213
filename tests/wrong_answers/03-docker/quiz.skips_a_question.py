# answers four questions right and leaves out the non-root one ("I'll come back to it")
quiz_answers = {
    "layer_order": "The code change invalidates the COPY layer and every layer after it, so pip runs again",
    "secret_in_layer": "No: the layer that contained the file is still in the image, readable by anyone who can pull it",
    "shell_form": "/bin/sh becomes PID 1 and does not forward SIGTERM, so the engine kills the service after the grace period",
    "healthcheck": "A HEALTHCHECK that calls an endpoint which only answers once the model is loaded",
}
