"""The sample utility and its billing month: the main job a new user runs first."""
