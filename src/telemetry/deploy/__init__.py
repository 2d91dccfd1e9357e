"""The Ansible engine's Python: what roles, modules and telemetry-ansible share."""
