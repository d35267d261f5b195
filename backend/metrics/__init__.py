"""Objective measures of generated motion (lip closure, aperture, jitter, blink rate, …)."""
