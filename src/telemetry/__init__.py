"""Kolla-style images, Ansible and Kubernetes deployment for OpenStack telemetry."""
