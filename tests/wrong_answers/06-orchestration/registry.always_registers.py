# Registers every model it trains, without comparing with the champion.
def build_registry_asset():
    @dg.asset
    def registered_model(duration_model, model_evaluation: dict, store: ModelStore) -> dg.MaterializeResult:
        payload = pickle.dumps(duration_model)
        version = hashlib.sha256(payload).hexdigest()[:12]
        mae = float(model_evaluation["mae"])
        champion = json.loads(store.load("champion.json")) if "champion.json" in store.names() else None
        better = True
        if better:
            store.save(f"models/{version}.pkl", payload)
            store.save("champion.json", json.dumps({"version": version, "mae": mae}).encode())
            champion = {"version": version, "mae": mae}
        return dg.MaterializeResult(
            metadata={"registered": better, "version": version, "mae": mae,
                      "champion_version": champion["version"]}
        )

    return registered_model
