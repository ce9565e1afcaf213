# Treats every value as a number of pods, so "25%" crashes int().
def rollout_bounds(replicas: int, max_surge, max_unavailable) -> tuple[int, int]:
    return replicas - int(max_unavailable), replicas + int(max_surge)
