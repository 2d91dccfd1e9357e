"""The `podman kube play` harness: a local stand-in for a cluster, not a cluster test.

No Kubernetes API server can be had on the machines this project is tested on, so this runs the
rendered workloads with podman instead, to prove that the images start from these manifests and
that the stack they form works: every Job's pod template to completion, then the Deployments and
DaemonSets, in the registry's order. What a cluster would do, the harness does itself, and says
so: there is no API server, scheduler or kube-proxy; Jobs are run by the harness (one pod each,
no retries); a Service is a DNS alias on one podman network (it cannot remap ports); Secrets are
podman volumes the harness fills; replicas are separate pods on one host; hostNetwork is off.

  mapping  one pod template -> a pod podman can play, and the names it uses (pure)
  plan     every rendered resource -> what to run, in order (pure)
  podman   the podman CLI, one argv list per call
  harness  up / down, with progress
"""
