# published_model writes the pickle to a fixed folder itself and ignores the store it was given.
class LocalFolderStore(ModelStore):
    root: str

    def save(self, name: str, payload: bytes) -> str:
        path = Path(self.root) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        return path.resolve().as_uri()

    def load(self, name: str) -> bytes:
        return (Path(self.root) / name).read_bytes()

    def names(self) -> list[str]:
        root = Path(self.root)
        if not root.exists():
            return []
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def build_publish_asset():
    @dg.asset
    def published_model(duration_model, store: ModelStore) -> dg.MaterializeResult:
        payload = pickle.dumps(duration_model)
        path = Path("models/v1/duration_model.pkl")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        uri = path.resolve().as_uri()
        return dg.MaterializeResult(metadata={"uri": uri, "size_bytes": len(payload)})

    return published_model
