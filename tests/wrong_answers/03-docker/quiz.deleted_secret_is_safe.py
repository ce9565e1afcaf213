# believes that deleting .env in a later RUN removes the token from the image
quiz_answers = {
    "layer_order": "The code change invalidates the COPY layer and every layer after it, so pip runs again",
    "secret_in_layer": "Yes: the file is deleted before the image is finished",
    "shell_form": "/bin/sh becomes PID 1 and does not forward SIGTERM, so the engine kills the service after the grace period",
    "healthcheck": "A HEALTHCHECK that calls an endpoint which only answers once the model is loaded",
    "non_root": "A compromised service then has no root rights in the container, which limits what an attacker can do and reach",
}
