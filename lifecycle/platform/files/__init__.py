"""One module per spec file (analyzed, group, plan, order, metadata, report, run, ...)."""
