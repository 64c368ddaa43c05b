"""Benchmarks of cqrs-orders, each runnable as `python -m bench.<name>`."""
