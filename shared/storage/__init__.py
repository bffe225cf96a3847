"""Result storage: the interface in `base`, backends in `local` and `s3`, the choice in `factory`."""
