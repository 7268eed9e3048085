"""Benchmarks: ``python -m benchmarks`` runs each ``bench_*.py`` module's ``main()``."""
