"""The HTTP layer: a stateless FastAPI app, its outbox relay, and the `floorplan` command line."""
