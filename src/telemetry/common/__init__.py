"""Engine-neutral code both deploy engines import (Ansible and Kubernetes).

Nothing here imports an engine (telemetry.deploy, telemetry.k8s) or Ansible. Modules in this
package that Ansible modules need import only the standard library, the docker SDK and each
other (relatively), so `ansible/module_utils` can ship them to managed hosts unchanged.
"""
