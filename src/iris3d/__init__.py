"""Iris: a CT scan in, an explorable 3D model of the patient's anatomy out."""

__version__ = "0.1.0"
