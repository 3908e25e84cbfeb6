"""The ``synth`` command line: one thin layer over the packages' Python API."""
