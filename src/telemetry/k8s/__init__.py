"""telemetry-k8s: the catalog's services as kolla-kubernetes-style Kubernetes resources.

Layers (arrows point down only): ``variables`` (the layered vars and passwords), ``registry``
(kubernetes/service_resources.yml), ``configs`` (the Ansible config templates rendered for
KUBERNETES), ``pods`` (catalog containers as pod specs), ``render`` (resource templates under
services/), ``validate`` (offline schemas); ``apply`` and ``waits`` talk to a cluster.
"""
