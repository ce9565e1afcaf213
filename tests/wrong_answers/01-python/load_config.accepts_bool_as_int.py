# Validates with isinstance(value, int), which accepts True and False as integers.
import tomllib


def load_config(path) -> dict:
    try:
        with open(path, "rb") as file:
            config = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot load ({exc})") from exc
    model = config.setdefault("model", {})
    training = config.setdefault("training", {})
    data = config.setdefault("data", {})
    if not isinstance(model.get("name"), str) or not model["name"]:
        raise ConfigError(f"{path}: model.name must be a non-empty string")
    lr = training.get("learning_rate")
    if not isinstance(lr, (int, float)) or not 0 < lr <= 1:
        raise ConfigError(f"{path}: training.learning_rate must be in (0, 1], got {lr!r}")
    training["learning_rate"] = float(lr)
    epochs = training.get("epochs")
    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"{path}: training.epochs must be an integer >= 1, got {epochs!r}")
    batch_size = training.setdefault("batch_size", 32)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"{path}: training.batch_size must be an integer >= 1")
    data.setdefault("path", "data/train.csv")
    return config
