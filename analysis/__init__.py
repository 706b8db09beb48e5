"""strato's Python side: read results files, plot them, write a report a planner can open."""
