# Reads keys directly: a missing key escapes as KeyError, bad values are never checked.
import tomllib


def load_config(path) -> dict:
    with open(path, "rb") as file:
        config = tomllib.load(file)
    config["training"].setdefault("batch_size", 32)
    config.setdefault("data", {}).setdefault("path", "data/train.csv")
    config["training"]["learning_rate"] = float(config["training"]["learning_rate"])
    if config["training"]["epochs"] < 1:
        raise ConfigError(f"training.epochs must be >= 1 in {path}")
    return config
