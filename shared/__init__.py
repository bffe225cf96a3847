"""Code that the API and the worker fleet both use: plan schema, jobs, DB, queue, storage, settings."""
