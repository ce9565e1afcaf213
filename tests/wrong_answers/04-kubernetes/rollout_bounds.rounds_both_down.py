# Rounds both percentages down (maxSurge must round up).
import math


def rollout_bounds(replicas: int, max_surge, max_unavailable) -> tuple[int, int]:
    def resolve(value):
        if isinstance(value, str) and value.endswith("%"):
            return math.floor(int(value[:-1]) * replicas / 100)
        return int(value)

    surge, unavailable = resolve(max_surge), resolve(max_unavailable)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return replicas - unavailable, replicas + surge
