"""Thin command-line front ends; the logic lives in the engines."""
