"""The specifications: the service run as it runs for real (uvicorn, MariaDB, moto_server, the real tools)."""
