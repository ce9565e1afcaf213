# Forgets that the controller allows one unavailable pod when both values round to zero.
import math


def rollout_bounds(replicas: int, max_surge, max_unavailable) -> tuple[int, int]:
    def resolve(value, round_up):
        if isinstance(value, str) and value.endswith("%"):
            exact = int(value[:-1]) * replicas / 100
            return math.ceil(exact) if round_up else math.floor(exact)
        return int(value)

    surge = resolve(max_surge, True)
    unavailable = resolve(max_unavailable, False)
    return replicas - unavailable, replicas + surge
