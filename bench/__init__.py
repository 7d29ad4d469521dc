"""Benchmarks (not tests): run them by hand, results go in bench/README.md."""
