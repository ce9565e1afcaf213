# Builds without the BASE_IMAGE build argument, so the build needs python:3.11-slim from a registry.
def smoke_test(client, context, *, tag, base_image, payload, timeout=60):
    image, _ = client.images.build(path=str(context), tag=tag, rm=True)
    container = client.containers.run(image.id, detach=True, ports={"8000/tcp": None})
    try:
        deadline = time.monotonic() + timeout
        while True:
            container.reload()
            if container.status == "exited":
                raise RuntimeError("the container exited:\n" + container.logs().decode())
            if container.health == "healthy":
                break
            if container.health == "unhealthy" or time.monotonic() > deadline:
                raise RuntimeError(f"the container is not healthy ({container.health})")
            time.sleep(0.5)
        port = container.ports["8000/tcp"][0]["HostPort"]
        request = urllib.request.Request(f"http://127.0.0.1:{port}/predict",
                                         data=json.dumps(payload).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            prediction = json.load(response)
        return {"prediction": prediction, "logs": container.logs().decode()}
    finally:
        container.stop(timeout=5)
        container.remove(force=True)
