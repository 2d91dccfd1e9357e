"""telemetry-k8s: the catalog's services as kolla-kubernetes-style Kubernetes resources.

Layers (arrows point down only): ``variables`` (the catalog's defaults, the layered vars and
passwords), ``registry`` (resources and their selection), ``special`` (the registry's exceptions,
kubernetes/service_resources.yml), ``generate`` (the registry built from the catalog), ``configs``
(the Ansible config templates rendered for KUBERNETES), ``pods`` (catalog containers as pod
specs), ``specs`` (the toolbox Jobs' specs), ``render`` (resource templates under services/),
``validate`` (offline schemas); ``apply`` and ``waits`` talk to a cluster.
"""
