"""The platform interface: inputs (flags, CNB_* env, defaults), labels, and the spec's files."""
