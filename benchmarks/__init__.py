"""regionkit benchmarks: data generator, case registry and runner (not shipped)."""
