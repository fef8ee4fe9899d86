"""Controllers: translate HTTP requests into service calls and results back into HTTP."""
