"""Staff training in the Prevent duty: the staff list, completions, CSV imports and compliance."""
