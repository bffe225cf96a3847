"""The worker fleet: queue consumer, render supervisor, and the pure renderers it runs in child processes."""
