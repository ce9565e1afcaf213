# names() returns bare file names, so 'a/b.bin' is listed as 'b.bin' and cannot be loaded back.
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
        return sorted(p.name for p in root.rglob("*") if p.is_file())


def build_publish_asset():
    @dg.asset
    def published_model(duration_model, store: ModelStore) -> dg.MaterializeResult:
        payload = pickle.dumps(duration_model)
        uri = store.save("duration_model.pkl", payload)
        return dg.MaterializeResult(metadata={"uri": uri, "size_bytes": len(payload)})

    return published_model
