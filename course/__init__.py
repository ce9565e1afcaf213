"""The MLOps Roadmap course driver: catalog, build, execute, grade, and the CLI over them."""
