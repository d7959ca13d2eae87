"""L-BFGS-B: limited-memory BFGS with bounds (in progress)."""
