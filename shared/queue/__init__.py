"""Render queues of doorbells: the interface in `base`, backends in `sql` and `sqs`, the choice in `factory`."""
