"""Rotation and skeleton math as pure numpy functions (shapes in each docstring)."""
