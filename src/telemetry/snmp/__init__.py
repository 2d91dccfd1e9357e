"""SNMP host pollsters for ceilometer (seed 003's hardware.network.* and custom.hardware.* meters).

Ceilometer 19 dropped its SNMP hardware pollsters, so this project provides them. The package is
split so that everything but `pollsters` runs without ceilometer (unit tests poll a real snmpd on
the host): `target` parses `snmp://COMMUNITY@HOST[:PORT]`, `fetch` does the few bulk walks of one
host, `measure` turns two snapshots into typed measurements, `hwfilter` reads
monitor_hardware.yaml, `poller` shares one fetch per host and cycle, and `pollsters` is the thin
ceilometer adapter registered under the `ceilometer.poll.central` entry points.
"""
