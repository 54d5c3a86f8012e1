"""Benchmarks: each `bench/bench_<area>.py` has a `main()` printing its figures next to a
baseline measured in the same run. Run them all with `python -m bench`, or some by name
(`python -m bench acd`)."""
