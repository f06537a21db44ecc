"""The hash-chained audit log, its sealed checkpoints, and the routes that read and verify them."""
