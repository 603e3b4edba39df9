"""Helpers shared by the test suites: fakes of the engine's ports (a launcher and a
recorder that run nothing and store in memory), the engine harness over real
launchers, and builders of compiled KFP components and images."""
