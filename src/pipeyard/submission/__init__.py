"""Creating runs: the one service behind ``pipeyard run``, the runs API and the
recurring-run scheduler, so that ids, default names, the Default experiment and
concurrent first runs behave the same whichever way a run is created."""
