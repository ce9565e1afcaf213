# Fills in a module-level template after a shallow .copy(): the nested dicts are shared between calls.
DEPLOYMENT_TEMPLATE = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": None, "labels": {}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {}},
        "template": {
            "metadata": {"labels": {}},
            "spec": {"containers": [{"name": "api", "image": None, "ports": [{"name": "http"}]}]},
        },
    },
}
SERVICE_TEMPLATE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": None},
    "spec": {"type": "ClusterIP", "selector": {},
             "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
}


def build_manifests(name: str, image: str, replicas: int = 2, port: int = 8000) -> list[dict]:
    deployment = DEPLOYMENT_TEMPLATE.copy()
    deployment["metadata"]["name"] = name
    deployment["metadata"]["labels"]["app"] = name
    deployment["spec"]["replicas"] = replicas
    deployment["spec"]["selector"]["matchLabels"]["app"] = name
    deployment["spec"]["template"]["metadata"]["labels"]["app"] = name
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["image"] = image
    container["ports"][0]["containerPort"] = port
    service = SERVICE_TEMPLATE.copy()
    service["metadata"]["name"] = name
    service["spec"]["selector"]["app"] = name
    return [deployment, service]


def write_manifests(manifests: list[dict], path) -> None:
    with open(path, "w") as file:
        yaml.safe_dump_all(manifests, file, sort_keys=False)
